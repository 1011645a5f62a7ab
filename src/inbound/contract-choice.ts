import { type Contract, findContract, findOperationByAction } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import { normaliseSoapAction } from './envelope-rules.js';

/** Which contract a SOAP POST is for, from its HTTP SOAPAction; throws the BrokerFault to answer when none. */
export type ContractChoice = (rawSoapAction: string | undefined) => Contract;

/** A contract's own address: the contract is fixed; the envelope rules check the SOAPAction belongs to it. */
export function fixedContract(contract: Contract): ContractChoice {
  return () => contract;
}

/** The shared address `/vo-webservices/`, where DUO's sample client posts every contract: the SOAPAction chooses. */
export const contractBySoapAction: ContractChoice = (rawSoapAction) => {
  const action = normaliseSoapAction(rawSoapAction);
  if (!action)
    throw new BrokerFault('DK0003', 'HTTP SOAPAction header missing; at the shared address it chooses the contract');
  const operation = findOperationByAction(action);
  // The client's value is echoed to help it, cut short so a fault and its log line stay small.
  if (!operation)
    throw new BrokerFault('DK0003', `SOAPAction '${action.slice(0, 120)}' is not an operation of any contract`);
  return findContract(operation.contract)!;
};
