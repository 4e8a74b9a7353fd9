export { createHttpAgent, type AgentOptions } from './agent.ts';
