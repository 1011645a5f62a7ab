<?php
// A LAS the way PHP vendors build one: SoapClient from the broker's WSDL URL, WS-Addressing headers added by hand.
// Reads one JSON request on stdin and writes one JSON answer on stdout (test/integration/php-client.test.ts).
//   {"mode":"describe","wsdl":URL}                    -> {"functions":[...]}
//   {"mode":"call","wsdl":URL,"location":URL|null,"operation":NAME,"body":{…the body's elements, nested…},
//    "headers":{"Action":…,"To":…,"MessageID":…,"From":…}} -> {"receipt":{…}} | {"fault":{"code":…,"string":…}}

const WSA = 'http://www.w3.org/2005/08/addressing';

function addressingHeaders(array $headers): array {
    $soapHeaders = [];
    foreach (['To', 'Action', 'MessageID'] as $name) {
        $soapHeaders[] = new SoapHeader(WSA, $name, $headers[$name]);
    }
    // wsa:From holds an element; the WSDL declares no headers, so SoapVar names it and its namespace.
    $address = new SoapVar($headers['From'], XSD_STRING, null, null, 'Address', WSA);
    $soapHeaders[] = new SoapHeader(WSA, 'From', new SoapVar([$address], SOAP_ENC_OBJECT));
    return $soapHeaders;
}

$request = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
try {
    $options = ['cache_wsdl' => WSDL_CACHE_NONE, 'trace' => true, 'exceptions' => true, 'soap_version' => SOAP_1_1];
    if (!empty($request['location'])) $options['location'] = $request['location'];
    $client = new SoapClient($request['wsdl'], $options);
    if ($request['mode'] === 'describe') {
        echo json_encode(['functions' => $client->__getFunctions()]);
        exit(0);
    }
    try {
        $receipt = $client->__soapCall($request['operation'], [$request['body']], null, addressingHeaders($request['headers']));
        echo json_encode(['receipt' => $receipt, 'request' => $client->__getLastRequest(), 'requestHeaders' => $client->__getLastRequestHeaders()]);
    } catch (SoapFault $fault) {
        echo json_encode(['fault' => ['code' => $fault->faultcode, 'string' => $fault->faultstring], 'request' => $client->__getLastRequest(), 'requestHeaders' => $client->__getLastRequestHeaders()]);
    }
} catch (Throwable $error) {
    echo json_encode(['error' => get_class($error) . ': ' . $error->getMessage()]);
}
