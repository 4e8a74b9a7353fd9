/** GreenLake's per-client rate limits, shared by every caller of the proxy: hold, refuse, retry once. */
export {
  RateBudgets,
  type BudgetObserver,
  type BudgetShare,
  type BudgetSettings,
  type BudgetStatus,
  type Caller,
  type ClientBudgetStatus,
  type HoldOutcome,
} from './budget.ts';
export { readRateLimit, type RateLimitReading, type UpstreamHeaders } from './headers.ts';
