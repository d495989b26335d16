import type { Socket } from 'node:net';

/**
 * Open connections per client address, counted from the upgrade request until its socket closes
 * (whether or not the upgrade completed), so a client cannot exhaust the server's sockets.
 */
export function connectionCap(maxPerAddress: number) {
  const open = new Map<string, number>();
  return {
    /** Admits one more connection from `address`, or refuses it when the address has its maximum. */
    open(address: string, socket: Socket): boolean {
      const count = open.get(address) ?? 0;
      if (count >= maxPerAddress) return false;
      open.set(address, count + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
      return true;
    },
  };
}
