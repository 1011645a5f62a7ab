"""Loads a WSDL with zeep, as a Python LAS vendor would, and prints what code built on it sees, as JSON.

Usage: python3 zeep-describe.py WSDL_URL (test/integration/zeep-client.test.ts).
"""
import json
import sys

import zeep


def element_info(message):
    element = message.body
    return {"element": element.qname.localname, "type": element.type.qname.localname if element.type.qname else None}


def describe(url):
    client = zeep.Client(url)
    services = []
    for service in client.wsdl.services.values():
        ports = []
        for port in service.ports.values():
            binding = port.binding
            operations = {
                name: {"soapAction": operation.soapaction, "input": element_info(operation.input), "output": element_info(operation.output)}
                for name, operation in binding.all().items()
            }
            ports.append({"name": port.name, "binding": binding.name.localname, "portType": binding.port_type.name.localname,
                          "address": port.binding_options["address"], "operations": operations})
        services.append({"name": service.name, "ports": ports})
    return {"services": services}


if __name__ == "__main__":
    json.dump(describe(sys.argv[1]), sys.stdout)
