export { type BareName, bareScopeNames, suggestForBareName } from './bare-names.ts';
export {
  type BindingString,
  classifyBindingString,
  MAX_BINDING_DEPTH,
  type PreparedBindings,
  prepareBindings,
  renderTemplate,
  resolveBindings,
} from './bindings.ts';
export { CONTEXT_VARIABLE, INDEX_VARIABLE, ITEM_VARIABLE, isReservedName, JSONATA_BUILTINS } from './builtins.ts';
export {
  type EvaluationOptions,
  type EvaluationRequest,
  type ExpressionEvaluator,
  inProcessEvaluator,
  keyedEvaluator,
} from './evaluator.ts';
export {
  clearExpressionCache,
  compileExpression,
  type ExpressionSyntaxInfo,
  MAX_EXPRESSION_LENGTH,
  type PreparedExpression,
  referencedVariables,
  tryCompileExpression,
} from './expression.ts';
export { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './limits.ts';
export { type PathReference, type PathStep, parsePathReference, walkPath } from './path-reference.ts';
export {
  SECRETS_VARIABLE,
  type SecretLocation,
  type SecretTemplatePart,
  type SecretUse,
  secretLocation,
  secretPlaceholder,
  secretReferenceName,
  secretsOnlyInQuery,
  secretUses,
  splitSecretTemplate,
} from './secrets.ts';
export { splitTemplate, type TemplatePart } from './template.ts';
