/**
 * Open-line setup (`imopenlines.config.*`, scope `imopenlines`): create, read, list, change and delete open lines, the
 * queues a connector is activated on. Facts: docs/bitrix24-events.md §5.5. Deleting a line fires
 * `ONIMCONNECTORLINEDELETE` (see `Events`).
 *
 * The line's settings (`PARAMS`) have dozens of keys; the ones the flow needs are typed (`LINE_NAME`, `ACTIVE`,
 * `QUEUE`, `QUEUE_TYPE`, `WELCOME_MESSAGE`) and any other key is passed through as given.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

const scope = "imopenlines"

const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * A line's settings as `add` and `update` take them (§5.5): the typed keys, and any other key as given.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LineParams = Schema.Struct({
  LINE_NAME: Schema.optionalWith(Schema.String, { exact: true }),
  ACTIVE: Schema.optionalWith(Wire.YesNo, { exact: true }),
  QUEUE: Schema.optionalWith(
    Schema.Array(Schema.Struct({ ENTITY_TYPE: Schema.Literal("user", "department"), ENTITY_ID: Wire.Id })),
    { exact: true }
  ),
  QUEUE_TYPE: Schema.optionalWith(Schema.Literal("evenly", "strictly", "all"), { exact: true }),
  WELCOME_MESSAGE: Schema.optionalWith(Wire.YesNo, { exact: true }),
  WELCOME_MESSAGE_TEXT: Schema.optionalWith(Schema.String, { exact: true })
}, rest).annotations({ identifier: "LineParams", description: "The line's settings (LINE_NAME, ACTIVE, QUEUE, ...)" })

const configId = Wire.Id.annotations({ description: "The open line's ID" })

/**
 * A line as `config.get` and `config.list.get` answer it: all values as the portal sends them (strings), with `ID`
 * and `LINE_NAME` typed (§5.5).
 *
 * @since 0.1.0
 * @category models
 */
export const Line = Schema.Struct({
  ID: Wire.Numeric,
  LINE_NAME: Schema.optional(Schema.String),
  ACTIVE: Schema.optional(Schema.String)
}, rest).annotations({ identifier: "Line" })

/**
 * `imopenlines.config.add`: creates an open line; answers its ID. Not idempotent (each call creates a line).
 *
 * @since 0.1.0
 * @category methods
 */
export const add = Method.make({
  method: "imopenlines.config.add",
  scope,
  summary: "Create an open line",
  description: "PARAMS { LINE_NAME, ACTIVE, QUEUE[] { ENTITY_TYPE, ENTITY_ID }, QUEUE_TYPE, ... }; answers the new " +
    "line's ID.",
  source: "docs/bitrix24-events.md §5.5",
  params: { PARAMS: Schema.optionalWith(LineParams, { exact: true }) },
  result: Wire.Numeric,
  errors: [PortalError.ConfigWrongUserPermission],
  idempotent: false,
  example: { PARAMS: { LINE_NAME: "Outside channel", QUEUE: [{ ENTITY_TYPE: "user", ENTITY_ID: 1 }] } }
})

/**
 * `imopenlines.config.get`: one line (`WITH_QUEUE`, `SHOW_OFFLINE`: Y/N). 400 `CONFIG_ID_EMPTY` without an ID.
 *
 * @since 0.1.0
 * @category methods
 */
export const get = Method.make({
  method: "imopenlines.config.get",
  scope,
  summary: "Read an open line's settings",
  description: "Answers the line with all values as strings; WITH_QUEUE adds its queue.",
  source: "docs/bitrix24-events.md §5.5",
  params: {
    CONFIG_ID: configId,
    WITH_QUEUE: Schema.optionalWith(Wire.YesNo.annotations({ description: "Include the queue" }), { exact: true }),
    SHOW_OFFLINE: Schema.optionalWith(Wire.YesNo.annotations({ description: "Include offline operators" }), {
      exact: true
    })
  },
  result: Line,
  errors: [PortalError.ConfigIdEmpty],
  invalid: { CONFIG_ID: { invalid: PortalError.ConfigIdEmpty } },
  idempotent: true,
  example: { CONFIG_ID: 1 }
})

/**
 * `imopenlines.config.list.get`: the lines, with `PARAMS { select, order, filter, limit (≤ 200), offset }`.
 *
 * @since 0.1.0
 * @category methods
 */
export const listGet = Method.make({
  method: "imopenlines.config.list.get",
  scope,
  summary: "List open lines",
  description: "PARAMS { select, order, filter, limit (default 50, at most 200), offset }.",
  source: "docs/bitrix24-events.md §5.5",
  params: {
    PARAMS: Schema.optionalWith(
      Schema.Struct({
        select: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
        order: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true }),
        filter: Schema.optionalWith(rest, { exact: true }),
        limit: Schema.optionalWith(Wire.Id.pipe(Schema.lessThanOrEqualTo(200)), { exact: true }),
        offset: Schema.optionalWith(Wire.Count, { exact: true })
      }),
      { exact: true }
    )
  },
  result: Schema.Array(Line),
  errors: [],
  idempotent: true,
  example: {}
})

/**
 * `imopenlines.config.update`: changes a line's settings; `true`, or `false` for a missing line.
 *
 * @since 0.1.0
 * @category methods
 */
export const update = Method.make({
  method: "imopenlines.config.update",
  scope,
  summary: "Change an open line's settings",
  description: "CONFIG_ID and PARAMS as for add; answers false when the line does not exist.",
  source: "docs/bitrix24-events.md §5.5",
  params: { CONFIG_ID: configId, PARAMS: LineParams },
  result: Schema.Boolean,
  errors: [PortalError.ConfigIdEmpty, PortalError.ConfigWrongUserPermission],
  invalid: { CONFIG_ID: { invalid: PortalError.ConfigIdEmpty } },
  idempotent: true,
  example: { CONFIG_ID: 1, PARAMS: { LINE_NAME: "Website chat" } }
})

/**
 * `imopenlines.config.delete`: deletes a line (`false` when it does not exist); every application bound to
 * `ONIMCONNECTORLINEDELETE` is told (§4).
 *
 * @since 0.1.0
 * @category methods
 */
export const remove = Method.make({
  method: "imopenlines.config.delete",
  scope,
  summary: "Delete an open line",
  description: "Answers true, or false when the line does not exist. Fires ONIMCONNECTORLINEDELETE.",
  source: "docs/bitrix24-events.md §4, §5.5",
  params: { CONFIG_ID: configId },
  result: Schema.Boolean,
  errors: [PortalError.ConfigIdEmpty, PortalError.ConfigWrongUserPermission],
  invalid: { CONFIG_ID: { invalid: PortalError.ConfigIdEmpty } },
  idempotent: true,
  example: { CONFIG_ID: 2 }
})

/**
 * The result of `imopenlines.config.path.get` (§5.5).
 *
 * @since 0.1.0
 * @category models
 */
export const Path = Schema.Struct({ SERVER_ADDRESS: Schema.String, PUBLIC_PATH: Schema.String }, rest)

/**
 * `imopenlines.config.path.get`: where the Contact Center is (`{ SERVER_ADDRESS, PUBLIC_PATH }`).
 *
 * @since 0.1.0
 * @category methods
 */
export const pathGet = Method.make({
  method: "imopenlines.config.path.get",
  scope,
  summary: "Read the Contact Center's address",
  description: "Answers { SERVER_ADDRESS, PUBLIC_PATH: \"/contact_center/\" }.",
  source: "docs/bitrix24-events.md §5.5",
  params: {},
  result: Path,
  errors: [],
  idempotent: true,
  example: {}
})
