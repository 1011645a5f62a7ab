import os from 'node:os';

/** The audit name of the person at the command line. */
export function cliActor(): string {
  let user = process.env.SUDO_USER || process.env.USER;
  try {
    user ||= os.userInfo().username;
  } catch {
    user ||= 'unknown';
  }
  return `cli:${user}`;
}
