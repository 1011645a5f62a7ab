/**
 * Reference points for bench:accept, each run as its own process:
 *   bare      — node:http answering a fixed receipt without reading XML (the ceiling of the HTTP stack)
 *   node-soap — a node-soap service on our WSDL whose handler returns a receipt (what node-soap's
 *               parsing and dispatch cost without any store)
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import soap from 'soap';
import { WSDL_DIR } from '../src/infra/paths.js';

const mode = process.argv[2];
const port = Number(process.argv[3]);
const RECEIPT =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ok/></soapenv:Body></soapenv:Envelope>';

if (mode === 'bare') {
  http
    .createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': Buffer.byteLength(RECEIPT) });
        res.end(RECEIPT);
      });
    })
    .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else if (mode === 'node-soap') {
  const contract = 'DUO_VOAanlevering_InschrijvingVO_V1';
  // node-soap resolves ../xsd/ relative to the WSDL's folder when given the file's path.
  const wsdlPath = path.join(WSDL_DIR, `${contract}.wsdl`);
  const receipt = (request: Record<string, unknown>) => ({
    identificatiecodeBedrijfsdocument: request.identificatiecodeBedrijfsdocument,
    verzendendeInstantie: 'DUO',
    ontvangendeInstantie: request.verzendendeInstantie,
    datumTijdBedrijfsdocument: new Date().toISOString(),
    ontvangstBevestiging: 'J',
  });
  const service = {
    [`${contract}.0`]: {
      [`${contract}.0Port`]: {
        aanleverenInschrijvingVO: receipt,
        aanleverenVerwijderingInschrijvingVO: receipt,
      },
    },
  };
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  server.listen(port, '127.0.0.1', () => {
    // `uri` lets node-soap resolve the WSDL's ../xsd/ imports on disk.
    soap.listen(server, {
      path: `/vo-webservices/${contract}`,
      services: service,
      xml: fs.readFileSync(wsdlPath, 'utf8'),
      uri: wsdlPath,
      callback: () => process.stdout.write('ready\n'),
    });
  });
} else {
  process.stderr.write('usage: reference-servers.js bare|node-soap PORT\n');
  process.exit(2);
}
