import { stopTestServices, type TestServices } from './services.js';

export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as Record<string, unknown>).__bronTestServices as TestServices | undefined;
  if (services) await stopTestServices(services);
}
