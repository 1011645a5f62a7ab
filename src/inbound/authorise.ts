import type { Operation } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import type { SoapEnvelope } from '../infra/xml/soap-envelope.js';
import type { Institution } from '../store/institutions.repo.js';

/** The parties of an authorised request. */
export interface AuthorisedParties {
  readonly institution: Institution;
  /** The BRIN the message is about: the body's `brin`, or for identification the sending BRIN when known. */
  readonly brin: string | null;
}

/**
 * The population-register source as a sending party. It is configuration (BRP_SOURCE_OIN), not a row in
 * the institutions table: it holds no BRIN, receives no pushes, and an operator cannot turn it into a school.
 */
const brpSource = (oin: string): Institution => ({
  oin,
  name: 'population register (BRP source)',
  brins: [],
  endpointUrl: null,
  enabled: true,
});

/** Only the configured BRP source, identifying itself by its own OIN, may send population-register mutations. */
function authoriseBrpSource(
  senderOin: string,
  brpSourceOin: string,
  operation: Operation,
  envelope: SoapEnvelope,
): AuthorisedParties {
  if (senderOin !== brpSourceOin) {
    throw new BrokerFault(
      'DK0002',
      `${operation.name} is accepted only from the population-register source, not from OIN ${senderOin}`,
      'From',
    );
  }
  const sender = envelope.bodyFields.get('verzendendeInstantie') ?? '';
  if (sender !== senderOin) {
    throw new BrokerFault(
      'DK0002',
      `verzendendeInstantie '${sender}' is not the OIN of the population-register source`,
      'verzendendeInstantie',
    );
  }
  return { institution: brpSource(senderOin), brin: null };
}

/**
 * School operations: the sender must be a registered, enabled institution (never the BRP source); the
 * body's `brin` must be one of its BRINs; `verzendendeInstantie` must be that BRIN or the sender's own OIN.
 * Population-register mutations: see authoriseBrpSource.
 */
export function authoriseSender(
  senderOin: string,
  institution: Institution | undefined,
  operation: Operation,
  envelope: SoapEnvelope,
  brpSourceOin: string,
): AuthorisedParties {
  if (operation.sender === 'brp-source') return authoriseBrpSource(senderOin, brpSourceOin, operation, envelope);
  if (senderOin === brpSourceOin) {
    throw new BrokerFault('DK0002', `the population-register source may not send ${operation.name}`, 'From');
  }
  if (!institution?.enabled) {
    throw new BrokerFault('DK0002', `OIN ${senderOin} is not registered as an enabled institution`, 'From');
  }
  const sender = envelope.bodyFields.get('verzendendeInstantie') ?? '';
  if (operation.hasBrin) {
    const brin = envelope.bodyFields.get('brin') ?? '';
    if (!institution.brins.includes(brin)) {
      throw new BrokerFault('DK0002', `OIN ${senderOin} may not deliver for BRIN ${brin}`, 'brin');
    }
    if (sender !== brin && sender !== senderOin) {
      throw new BrokerFault(
        'DK0002',
        `verzendendeInstantie '${sender}' is neither the message's BRIN ${brin} nor the sender's OIN`,
        'verzendendeInstantie',
      );
    }
    return { institution, brin };
  }
  if (sender !== senderOin && !institution.brins.includes(sender)) {
    throw new BrokerFault(
      'DK0002',
      `verzendendeInstantie '${sender}' is not a BRIN or the OIN of sender ${senderOin}`,
      'verzendendeInstantie',
    );
  }
  const brin = institution.brins.includes(sender)
    ? sender
    : institution.brins.length === 1
      ? institution.brins[0]!
      : null;
  return { institution, brin };
}
