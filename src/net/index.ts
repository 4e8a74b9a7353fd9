export { createHttpAgent, type AgentOptions } from './agent.ts';
export { isCertificateError } from './tls-errors.ts';
