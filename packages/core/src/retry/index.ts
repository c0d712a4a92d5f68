export { type NodeHashes, nodeHashes } from './closure-hash.ts';
export { canonicalJson, sha256Hex } from './hash.ts';
export {
  type NodePlan,
  type OriginalNode,
  planRetry,
  type RetryPlan,
  type RetryPlanInput,
  type RetryPlanResult,
} from './plan.ts';
