/** GreenLake's per-API rate limits, shared by every caller of the proxy: hold, refuse, retry once. */
export {
  budgetKey,
  RateBudgets,
  type ApiBudgetStatus,
  type BudgetApi,
  type BudgetKey,
  type BudgetObserver,
  type BudgetRefusal,
  type BudgetShare,
  type BudgetSettings,
  type BudgetStatus,
  type Caller,
  type ClientBudgetStatus,
  type Credential,
  type HoldOutcome,
} from './budget.ts';
export { generalisePath } from './api-path.ts';
export { readRateLimit, type RateLimitReading, type UpstreamHeaders } from './headers.ts';
