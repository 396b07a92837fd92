/**
 * @since 0.1.0
 */
export * as Batch from "./Batch.js"

/**
 * @since 0.1.0
 */
export * as Bitrix24Http from "./Bitrix24Http.js"

/**
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 */
export * as OAuth from "./OAuth.js"

/**
 * @since 0.1.0
 */
export * as OperatingBudget from "./OperatingBudget.js"

/**
 * @since 0.1.0
 */
export * as PortalLimits from "./PortalLimits.js"

/**
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * @since 0.1.0
 */
export * as SharedState from "./SharedState.js"

/**
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"
