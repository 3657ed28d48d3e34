// What the floors answer: about the size of agent.list's answer with the built-in echo agent.
export const AGENTS = [
  {
    id: 'echo',
    name: 'Echo',
    description: 'Answers with your own words, streamed word by word.',
    provider: 'builtin',
  },
];
