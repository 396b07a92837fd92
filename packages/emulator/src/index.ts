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
export * as Fixture from "./Fixture.js"

/**
 * @since 0.1.0
 */
export * as Handlers from "./Handlers.js"

/**
 * @since 0.1.0
 */
export * as Journal from "./Journal.js"

/**
 * @since 0.1.0
 */
export * as Portal from "./Portal.js"

/**
 * @since 0.1.0
 */
export * as Server from "./Server.js"
