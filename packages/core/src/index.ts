/**
 * @since 0.1.0
 */
export * as BatchProtocol from "./BatchProtocol.js"

/**
 * @since 0.1.0
 */
export * as Bitrix24Client from "./Bitrix24Client.js"

/**
 * @since 0.1.0
 */
export * as Catalog from "./Catalog.js"

/**
 * @since 0.1.0
 */
export * as Envelope from "./Envelope.js"

/**
 * @since 0.1.0
 */
export * as Event from "./Event.js"

/**
 * @since 0.1.0
 */
export * as Events from "./Events.js"

/**
 * @since 0.1.0
 */
export * as ImChat from "./ImChat.js"

/**
 * @since 0.1.0
 */
export * as ImConnector from "./ImConnector.js"

/**
 * @since 0.1.0
 */
export * as ImMessage from "./ImMessage.js"

/**
 * @since 0.1.0
 */
export * as ImOpenLines from "./ImOpenLines.js"

/**
 * @since 0.1.0
 */
export * as ImOpenLinesConfig from "./ImOpenLinesConfig.js"

/**
 * @since 0.1.0
 */
export * as Method from "./Method.js"

/**
 * @since 0.1.0
 */
export * as Php from "./Php.js"

/**
 * @since 0.1.0
 */
export * as PortalError from "./PortalError.js"

/**
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * @since 0.1.0
 */
export * as WireRequest from "./WireRequest.js"
