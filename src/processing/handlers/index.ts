import { handlerRegistry } from '../handler.js';
import { deletionHandler } from './deletion.handler.js';
import { enrolmentHandler } from './enrolment.handler.js';
import { examResultHandler } from './examResult.handler.js';
import { examResultDeletionHandler } from './examResultDeletion.handler.js';
import { identificationHandler } from './identification.handler.js';
import { personMutationHandler } from './person-mutation.handler.js';
import { priorEducationRequestHandler, stopSubscriptionHandler } from './prior-education.js';

/** Every inbound operation's handler; building it fails at start-up if one is missing or doubled. */
export const createHandlers = () =>
  handlerRegistry([
    enrolmentHandler,
    deletionHandler,
    identificationHandler,
    personMutationHandler,
    priorEducationRequestHandler,
    stopSubscriptionHandler,
    examResultHandler,
    examResultDeletionHandler,
  ]);
