/**
 * The inbound contracts and their operations: the one table that routing, SOAPAction checks, schema
 * validation and receipts are driven from. Names and namespaces follow docs/domain.md, section 3.
 */

export const NS = {
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  basisInschrijving: 'http://duo.nl/schema/DUO_VOBasisschema_Inschrijving_V1',
  basisInformatiediensten: 'http://duo.nl/schema/DUO_VOBasisschema_Informatiediensten_V1',
} as const;

export interface Operation {
  readonly contract: string;
  readonly name: string;
  /** `http://duo.nl/contract/<contract>/<operation>`: HTTP SOAPAction and wsa:Action. */
  readonly action: string;
  readonly requestElement: string;
  readonly responseElement: string;
  /** Namespace of the receipt's children (the contract's base schema). */
  readonly receiptNamespace: string;
  /** Whether the request body carries a `brin` (the identification request does not). */
  readonly hasBrin: boolean;
  /** Who may send it: registered institutions (schools, vendors), or only the configured population-register (BRP) source. */
  readonly sender: OperationSender;
}

/** The parties an inbound operation is accepted from (src/inbound/authorise.ts). */
export type OperationSender = 'institution' | 'brp-source';

export interface Contract {
  readonly name: string;
  /** WSDL targetNamespace. */
  readonly wsdlNamespace: string;
  /** Message schema namespace. */
  readonly schemaNamespace: string;
  /** Contract schema file in xsd/. */
  readonly schemaFile: string;
  /** WSDL file in wsdl/. */
  readonly wsdlFile: string;
  readonly operations: readonly Operation[];
}

function contract(
  name: string,
  receiptNamespace: string,
  ops: ReadonlyArray<[string, boolean, OperationSender?]>,
): Contract {
  return {
    name,
    wsdlNamespace: `http://duo.nl/contract/${name}`,
    schemaNamespace: `http://duo.nl/schema/${name}`,
    schemaFile: `${name}.xsd`,
    wsdlFile: `${name}.wsdl`,
    operations: ops.map(([op, hasBrin, sender = 'institution']) => ({
      contract: name,
      name: op,
      action: `http://duo.nl/contract/${name}/${op}`,
      requestElement: `${op}_Request`,
      responseElement: `${op}_Response`,
      receiptNamespace,
      hasBrin,
      sender,
    })),
  };
}

export const INBOUND_CONTRACTS: readonly Contract[] = [
  contract('DUO_VOAanlevering_InschrijvingVO_V1', NS.basisInschrijving, [
    ['aanleverenInschrijvingVO', true],
    ['aanleverenVerwijderingInschrijvingVO', true],
  ]),
  contract('DUO_VOInformatiediensten_IdentificerenPersoonVO_V1', NS.basisInformatiediensten, [
    ['aanleverenIdentificerenPersoonVO', false],
  ]),
  // Ours (docs/domain.md, section 3), in the enrolment contract's style and on its base schema (receipts alike).
  contract('DUO_VOAanlevering_ExamenresultaatVO_V1', NS.basisInschrijving, [
    ['aanleverenExamenresultaatVO', true],
    ['aanleverenVerwijderingExamenresultaatVO', true],
  ]),
  // Ours (docs/domain.md, section 3): stands in for the population register's feed; reuses the identification base schema.
  contract('DUO_BRP_Persoonsmutaties_V1', NS.basisInformatiediensten, [
    ['verwerkenPersoonsmutatie', false, 'brp-source'],
  ]),
  // Ours, in DUO's style (docs/prior-education.md): an MBO institution asks for a student's prior education.
  contract('DUO_MBOAanlevering_Vooropleidingen_V1', NS.basisInformatiediensten, [
    ['aanvragenVooropleidingen', true],
    ['stoppenAbonnementVooropleidingen', true],
  ]),
];

const contractsByName = new Map(INBOUND_CONTRACTS.map((c) => [c.name, c]));
const operationsByAction = new Map(INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => [o.action, o])));

export function findContract(name: string): Contract | undefined {
  return contractsByName.get(name);
}

export function findOperationByAction(action: string): Operation | undefined {
  return operationsByAction.get(action);
}

/**
 * An OIN: 20 characters. Mostly digits, but an OIN derived from a BRIN embeds its letters
 * (`00000007000` + `25BE` + `00000`).
 */
export const OIN_PATTERN = /^[0-9A-Z]{20}$/;

/** The outbound contract (ours, docs/domain.md, section 5): institutions implement it, the broker calls it. */
export const OUTBOUND_CONTRACT: Contract = contract(
  'DUO_VOTerugkoppeling_V1',
  'http://duo.nl/schema/DUO_VOTerugkoppeling_V1',
  [
    ['terugkoppelenInschrijvingVO', true],
    ['verstrekkenPersoonsgegevens', false],
    ['verstrekkenDigitaalInUitschrijfbewijsVO', true],
    ['verstrekkenBekostigingsstatus', true],
    ['verstrekkenKwaliteitscontrole', true],
    ['leverenVooropleidingsgegevens', true],
    ['terugkoppelenExamenresultaatVO', true],
    ['verstrekkenExamenresultaatVO', true],
  ],
);
