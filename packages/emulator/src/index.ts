/**
 * @since 0.1.0
 */
export * as Connectors from "./Connectors.js"

/**
 * @since 0.1.0
 */
export * as ControlApi from "./ControlApi.js"

/**
 * @since 0.1.0
 */
export * as ControlClient from "./ControlClient.js"

/**
 * @since 0.1.0
 */
export * as ControlServer from "./ControlServer.js"

/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"

/**
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * @since 0.1.0
 */
export * as Envelope from "./Envelope.js"

/**
 * @since 0.1.0
 */
export * as EventBus from "./EventBus.js"

/**
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * @since 0.1.0
 */
export * as Fixture from "./Fixture.js"

/**
 * @since 0.1.0
 */
export * as Handlers from "./Handlers.js"

/**
 * @since 0.1.0
 */
export * as InProcess from "./InProcess.js"

/**
 * @since 0.1.0
 */
export * as Journal from "./Journal.js"

/**
 * @since 0.1.0
 */
export * as Limits from "./Limits.js"

/**
 * @since 0.1.0
 */
export * as OAuthServer from "./OAuthServer.js"

/**
 * @since 0.1.0
 */
export * as Portal from "./Portal.js"

/**
 * @since 0.1.0
 */
export * as PortalClock from "./PortalClock.js"

/**
 * @since 0.1.0
 */
export * as Server from "./Server.js"

/**
 * @since 0.1.0
 */
export * as StatusProfile from "./StatusProfile.js"

/**
 * @since 0.1.0
 */
export * as Tls from "./Tls.js"
