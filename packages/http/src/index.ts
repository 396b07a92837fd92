/**
 * @since 0.1.0
 */
export * as Bitrix24Http from "./Bitrix24Http.js"

/**
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"
