import fs from 'node:fs';
import path from 'node:path';
import { XmlDocument, XsdValidator, xmlCleanupInputProvider } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { XSD_DIR } from '../paths.js';

/**
 * Compiles each named contract schema (with its imports) once. File access is switched on only while
 * compiling, so documents parsed later on the request path can never make libxml2 read a file.
 * Throws when a schema is missing or broken: a broker with a broken XSD must not start.
 */
export function compileSchemas(schemaFiles: readonly string[], dir = XSD_DIR): Map<string, XsdValidator> {
  const validators = new Map<string, XsdValidator>();
  xmlRegisterFsInputProviders();
  try {
    for (const file of schemaFiles) {
      const full = path.join(dir, file);
      const doc = XmlDocument.fromBuffer(fs.readFileSync(full), { url: full });
      try {
        validators.set(file, XsdValidator.fromDoc(doc));
      } catch (error) {
        throw new Error(`schema ${file} does not compile: ${(error as Error).message}`);
      } finally {
        doc.dispose();
      }
    }
  } finally {
    xmlCleanupInputProvider();
  }
  return validators;
}
