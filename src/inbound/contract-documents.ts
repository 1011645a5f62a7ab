import fs from 'node:fs';
import path from 'node:path';
import { WSDL_DIR, XSD_DIR } from '../infra/paths.js';

/**
 * The published WSDLs and XSDs, read once. WSDLs import `../xsd/<file>`, which resolves both on disk
 * and over HTTP (`/vo-webservices/<contract>?wsdl` → `/xsd/<file>`), so a client generator needs only
 * the WSDL URL.
 */
export class ContractDocuments {
  private readonly wsdls = new Map<string, string>();
  private readonly xsds = new Map<string, string>();

  constructor() {
    for (const file of fs.readdirSync(WSDL_DIR).filter((f) => f.endsWith('.wsdl'))) {
      this.wsdls.set(file.slice(0, -'.wsdl'.length), fs.readFileSync(path.join(WSDL_DIR, file), 'utf8'));
    }
    for (const file of fs.readdirSync(XSD_DIR).filter((f) => f.endsWith('.xsd'))) {
      this.xsds.set(file, fs.readFileSync(path.join(XSD_DIR, file), 'utf8'));
    }
  }

  /** The WSDL of a contract with its soap:address pointing at `baseUrl`, or undefined. */
  wsdl(contract: string, baseUrl: string): string | undefined {
    return this.wsdls
      .get(contract)
      ?.replace(/(<soap:address\s+location=")[^"]*(")/g, `$1${baseUrl}/vo-webservices/${contract}$2`);
  }

  xsd(file: string): string | undefined {
    return this.xsds.get(file);
  }

  contracts(): string[] {
    return [...this.wsdls.keys()];
  }
}
