import { createServer } from 'node:net';
import { AppError } from '@nessus-mcp/core';

export interface PortClaim {
  /** The environment variable that sets it, named in the error. */
  name: string;
  host: string;
  port: number;
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(claims: PortClaim[]): Promise<void> {
  const taken: string[] = [];
  for (const claim of claims) {
    if (claim.port === 0) continue;
    if (!(await isFree(claim.host, claim.port))) taken.push(`${claim.name}=${claim.port} (${claim.host}:${claim.port} is already in use)`);
  }
  if (taken.length > 0) {
    throw new AppError('config_invalid', `cannot start: ${taken.join('; ')}. Stop the program using it, or choose another port with that variable.`);
  }
}
