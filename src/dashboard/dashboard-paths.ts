/** The gateway's own paths: never answered with the dashboard's index.html. */
const EXCLUDED = [
  /^\/rpc(?:[/?]|$)/,
  /^\/ws(?:[/?]|$)/,
  /^\/health(?:[/?]|$)/,
  /^\/status(?:[/?]|$)/,
  /^\/metrics(?:[/?]|$)/,
  /^\/auth\//,
  /^\/v1(?:[/?]|$)/,
  /^\/mcp(?:[/?]|$)/,
  /^\/\.well-known\//,
];

export function isExcludedFromDashboard(url: string): boolean {
  return EXCLUDED.some((pattern) => pattern.test(url));
}
