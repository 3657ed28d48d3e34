import { ref } from 'vue';

export const VIEWS = [
  { path: '/overview', label: 'Overview' },
  { path: '/chat', label: 'Chat' },
  { path: '/sessions', label: 'Sessions' },
  { path: '/agents', label: 'Agents & Tools' },
  { path: '/approvals', label: 'Approvals' },
  { path: '/usage', label: 'Usage' },
  { path: '/api', label: 'API' },
  { path: '/audit', label: 'Audit' },
] as const;

/** History-mode routing: the gateway answers every dashboard path with index.html. */
export const route = ref(window.location.pathname);

window.addEventListener('popstate', () => {
  route.value = window.location.pathname;
});

export function navigate(path: string): void {
  if (path === route.value) return;
  window.history.pushState(null, '', path);
  route.value = path;
}
