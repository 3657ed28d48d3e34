/** Close codes the gateway uses beyond the RFC's. */
export const WsCloseCode = {
  GoingAway: 1001,
  PolicyViolation: 1008,
  TooBig: 1009,
  Unauthenticated: 4001,
} as const;
