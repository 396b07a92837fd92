/**
 * @since 0.1.0
 */
export * as OfflineConsumer from "./OfflineConsumer.js"

/**
 * @since 0.1.0
 */
export * as Receiver from "./Receiver.js"
