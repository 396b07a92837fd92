/**
 * The events a portal sends to an application's handler, as schemas over the decoded form body
 * (docs/bitrix24-events.md §2.2-§2.4, §2.7, §3.6, §4).
 *
 * A delivery is a `POST` with a PHP-style bracket form (`data[MESSAGES][0][im][chat_id]=1807`, §2.2) in which every
 * value is a string. Read the body with `WireRequest.parseQuery` (no silent depth or array limits, sequential indices
 * become lists) and decode it with {@link Event}:
 *
 * - the envelope: `event` (upper-cased), the binding's ID from whichever key carries it (`event_handler_id`,
 *   `eventId` or `event_id`, §6 #4; absent for some ONAPPINSTALL deliveries, §6 #17), `ts` (Unix seconds) and
 *   `auth` ({@link Auth}: `member_id`, `domain` and `application_token` always, tokens when a user caused the
 *   event; every token stays `Redacted`);
 * - `data` in its real shape per event: an object, a bare line ID (`ONIMCONNECTORLINEDELETE`, §6 #7) or nothing
 *   (`ONOFFLINEEVENT`, §6 #18), with the key variants of §6 tolerated (`DATA` for `MESSAGES` in message updates and
 *   deletes, #5; lower- or upper-case keys in `ONIMCONNECTORSTATUSDELETE`, #6; `message.id` as a string or a list,
 *   #8) and numbers decoded from their strings;
 * - any other event code decodes to {@link UnknownEvent} with `data` as received, so nothing is dropped. A known code
 *   whose `data` does not have its shape fails to decode.
 *
 * Each decoded event is tagged by its code (`_tag`), so handlers narrow with `Match.tag` / `switch`. The catalog of
 * events (codes, scopes, summaries, sources) is {@link definitions}; the reference docs are generated from it.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Wire from "./Wire.js"

const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** A number sent as a decimal string (every form value is a string, §2.2); a JSON number passes too. */
const num = Schema.Union(Schema.NumberFromString, Schema.Number)

/** A list: a JSON or form list, or an object with numeric keys (a form list with gaps); decodes to an array. */
const list = <S extends Schema.Schema.Any>(item: S) =>
  Schema.Union(
    Schema.Array(item),
    Schema.transform(Schema.Record({ key: Schema.String, value: item }), Schema.Array(Schema.typeSchema(item)), {
      strict: false,
      decode: (record) => Object.values(record),
      encode: (items) => Object.fromEntries(items.map((value, index) => [String(index), value]))
    })
  )

/** A string or a list of strings, as a list (`message.id` of updates and deletes, §6 #8). */
const ids = Schema.Union(
  list(Schema.String),
  Schema.transform(Schema.String, Schema.Array(Schema.String), {
    strict: true,
    decode: (id) => [id],
    encode: (items) => items[0] ?? ""
  })
)

/**
 * The `auth` block of a delivery (§2.4). `member_id`, `domain` and `application_token` are always there (the last is
 * the only proof of origin, §2.5); `access_token` / `refresh_token` only when a user caused the event, or for
 * ONAPPINSTALL and ONOFFLINEEVENT. Tokens are `Redacted`; `expires` is absolute Unix seconds, `expires_in` seconds.
 * Other keys are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Auth = Schema.Struct({
  member_id: Schema.String,
  domain: Schema.String,
  application_token: Schema.Redacted(Schema.String),
  access_token: Schema.optional(Schema.Redacted(Schema.String)),
  refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
  expires: Schema.optional(num),
  expires_in: Schema.optional(num),
  scope: Schema.optional(Schema.String),
  server_endpoint: Schema.optional(Schema.String),
  client_endpoint: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  user_id: Schema.optional(num)
}, rest).annotations({ identifier: "Auth" })

/**
 * @since 0.1.0
 * @category models
 */
export type Auth = typeof Auth.Type

/** The envelope fields every event has, after the key variants are folded (see {@link Envelope}). */
const header = {
  event_handler_id: Schema.optional(num),
  ts: num,
  auth: Auth
}

/**
 * The message a connector's application receives for an operator's message (`ONIMCONNECTORMESSAGEADD`, §4): the
 * Bitrix24 chat and message (`im`), the text (BB-code; the operator's name prefixed with `NEED_SIGNATURE`) and files,
 * and the outside chat (`chat.id`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutboundMessage = Schema.Struct({
  im: Schema.Struct({ chat_id: num, message_id: num }, rest),
  message: Schema.Struct({
    user_id: Schema.optional(num),
    text: Schema.optional(Schema.String),
    files: Schema.optional(list(Schema.Struct({
      name: Schema.optional(Schema.String),
      link: Schema.optional(Schema.String),
      type: Schema.optional(Schema.String)
    }, rest)))
  }, rest),
  chat: Schema.Struct({ id: Schema.String }, rest)
}, rest).annotations({ identifier: "OutboundMessage" })

/**
 * An edited or deleted operator message (§4): `im`, the outside IDs it got (`message.id`, always a list here, §6 #8),
 * the new text for an edit, and the outside chat.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutboundChange = Schema.Struct({
  im: Schema.Struct({ chat_id: num, message_id: num }, rest),
  message: Schema.Struct({ id: Schema.optional(ids), text: Schema.optional(Schema.String) }, rest),
  chat: Schema.Struct({ id: Schema.String }, rest)
}, rest).annotations({ identifier: "OutboundChange" })

/**
 * A dialog or session item (`ONIMCONNECTORDIALOGSTART/FINISH`, `ONSESSIONSTART/FINISH`, §4): the connector's view
 * (`connector_id`, `line_id`, `chat_id`: the outside chat, `user_id`: the outside user), the session (`id`, `closed`
 * Y/N, `parent_id`, `close_term` minutes), the Bitrix24 chat and user.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DialogItem = Schema.Struct({
  connector: Schema.optional(Schema.Struct({
    connector_id: Schema.optional(Schema.String),
    line_id: Schema.optional(num),
    chat_id: Schema.optional(Schema.String),
    user_id: Schema.optional(Schema.String)
  }, rest)),
  session: Schema.optional(Schema.Struct({
    id: num,
    closed: Schema.optional(Wire.YesNo),
    parent_id: Schema.optional(num),
    close_term: Schema.optional(num)
  }, rest)),
  chat: Schema.optional(Schema.Struct({ id: num }, rest)),
  user: Schema.optional(Schema.Struct({ id: num }, rest))
}, rest).annotations({ identifier: "DialogItem" })

/**
 * An open-line message item (`ONOPENLINEMESSAGEADD`, §4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LineMessageItem = Schema.Struct({
  connector: Schema.optional(rest),
  chat: Schema.optional(Schema.Struct({ id: num }, rest)),
  message: Schema.optional(Schema.Struct({
    id: Schema.optional(num),
    text: Schema.optional(Schema.String),
    user_id: Schema.optional(num),
    system: Schema.optional(Wire.YesNo)
  }, rest))
}, rest).annotations({ identifier: "LineMessageItem" })

/** `data` with its list under `MESSAGES`, also when it arrives as `DATA` (§6 #5). */
const withMessages = <S extends Schema.Schema.Any>(item: S) =>
  Schema.transform(
    rest,
    Schema.Struct({ CONNECTOR: Schema.String, LINE: num, MESSAGES: list(item) }, rest).pipe(Schema.encodedSchema),
    {
      strict: false,
      decode: (data) =>
        "MESSAGES" in data || !("DATA" in data)
          ? data
          : Object.fromEntries(Object.entries(data).map(([key, value]) => [key === "DATA" ? "MESSAGES" : key, value])),
      encode: (data) => data
    }
  ).pipe(Schema.compose(Schema.Struct({ CONNECTOR: Schema.String, LINE: num, MESSAGES: list(item) }, rest)))

/** `data` with upper-case `CONNECTOR` / `LINE`, also when they arrive lower-case (§6 #6). */
const upperConnectorLine = Schema.transform(
  rest,
  Schema.Struct({ CONNECTOR: Schema.String, LINE: Schema.Unknown }, rest).pipe(Schema.encodedSchema),
  {
    strict: false,
    decode: (data) => {
      const out: Record<string, unknown> = { ...data }
      if (!("CONNECTOR" in out) && "connector" in out) out.CONNECTOR = out.connector
      if (!("LINE" in out) && "line" in out) out.LINE = out.line
      return out
    },
    encode: (data) => data
  }
).pipe(Schema.compose(Schema.Struct({ CONNECTOR: Schema.String, LINE: num }, rest)))

/** The bare line ID of `ONIMCONNECTORLINEDELETE` (§6 #7), also from the old `{ LINE_ID }` form; decodes to `{ LINE }`. */
const lineId = Schema.Union(
  Schema.transform(num, Schema.Struct({ LINE: Schema.Number }), {
    strict: true,
    decode: (line) => ({ LINE: line }),
    encode: (data) => data.LINE
  }),
  Schema.transform(Schema.Struct({ LINE_ID: num }), Schema.Struct({ LINE: Schema.Number }), {
    strict: true,
    decode: (data) => ({ LINE: data.LINE_ID }),
    encode: (data) => ({ LINE_ID: data.LINE })
  })
)

/** Nothing, an empty string or any object: `data` of ONOFFLINEEVENT (§6 #18); decodes to `{}`-or-what-came. */
const nothing = Schema.Union(
  rest,
  Schema.transform(Schema.Union(Schema.Literal(""), Schema.Undefined), rest, {
    strict: false,
    decode: () => ({}),
    encode: () => undefined
  })
)

const definition = <const Code extends string, D extends Schema.Schema.Any>(
  code: Code,
  spec: {
    readonly data: D
    readonly scope: string
    readonly summary: string
    readonly source: string
    readonly appOnly?: boolean
  }
) => ({
  code,
  ...spec,
  schema: Schema.TaggedStruct(code, { ...header, data: spec.data })
})

/**
 * Like {@link definition} for events whose `data` fields are all optional: a delivery without `data` (an empty array
 * is dropped by PHP's form encoding, §7.4) decodes with `data: {}`.
 */
const optionalData = <const Code extends string, A extends object, I, R>(
  code: Code,
  spec: {
    readonly data: Schema.Schema<A, I, R>
    readonly scope: string
    readonly summary: string
    readonly source: string
  }
) => ({
  code,
  ...spec,
  schema: Schema.TaggedStruct(code, {
    ...header,
    data: Schema.optionalWith(spec.data, { default: () => ({}) as A })
  })
})

/**
 * The events this library types, by code: the `data` schema, the scope the portal files the event under, a summary,
 * the source, and whether it goes only to the application that registered the connector (`appOnly`, §4).
 *
 * @since 0.1.0
 * @category catalog
 */
export const definitions = {
  ONAPPINSTALL: optionalData("ONAPPINSTALL", {
    data: Schema.Struct({
      VERSION: Schema.optional(Schema.String),
      ACTIVE: Schema.optional(Wire.YesNo),
      INSTALLED: Schema.optional(Wire.YesNo),
      LANGUAGE_ID: Schema.optional(Schema.String)
    }, rest),
    scope: "_global",
    summary: "The application was installed; auth carries its tokens and the application_token to keep",
    source: "docs/bitrix24-events.md §2.7"
  }),
  ONAPPUNINSTALL: optionalData("ONAPPUNINSTALL", {
    data: Schema.Struct({ LANGUAGE_ID: Schema.optional(Schema.String), CLEAN: Schema.optional(num) }, rest),
    scope: "_global",
    summary: "The application was removed; auth has no tokens, only application_token proves the origin",
    source: "docs/bitrix24-events.md §2.7"
  }),
  ONAPPTEST: optionalData("ONAPPTEST", {
    data: Schema.Struct({ QUERY: Schema.optional(Schema.Unknown), LANGUAGE_ID: Schema.optional(Schema.String) }, rest),
    scope: "_global",
    summary: "Fired by event.test; data.QUERY holds the params sent",
    source: "docs/bitrix24-events.md §1.5"
  }),
  ONOFFLINEEVENT: definition("ONOFFLINEEVENT", {
    data: nothing,
    scope: "_global",
    summary: "New rows arrived in the offline queue (no data; auth carries refresh_token)",
    source: "docs/bitrix24-events.md §3.6, §6 #18"
  }),
  ONIMCONNECTORMESSAGEADD: definition("ONIMCONNECTORMESSAGEADD", {
    data: withMessages(OutboundMessage),
    scope: "imopenlines",
    summary: "An operator wrote in a connector's chat: deliver it, then imconnector.send.status.delivery",
    source: "docs/bitrix24-events.md §2.2, §4",
    appOnly: true
  }),
  ONIMCONNECTORMESSAGEUPDATE: definition("ONIMCONNECTORMESSAGEUPDATE", {
    data: withMessages(OutboundChange),
    scope: "imopenlines",
    summary: "An operator edited a message in a connector's chat",
    source: "docs/bitrix24-events.md §4, §6 #5",
    appOnly: true
  }),
  ONIMCONNECTORMESSAGEDELETE: definition("ONIMCONNECTORMESSAGEDELETE", {
    data: withMessages(OutboundChange),
    scope: "imopenlines",
    summary: "An operator deleted a message in a connector's chat",
    source: "docs/bitrix24-events.md §4, §6 #5, #8",
    appOnly: true
  }),
  ONIMCONNECTORDIALOGSTART: definition("ONIMCONNECTORDIALOGSTART", {
    data: Schema.Struct({ CONNECTOR: Schema.String, LINE: num, DATA: list(DialogItem) }, rest),
    scope: "imopenlines",
    summary: "A dialog of a connector's chat started",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONIMCONNECTORDIALOGFINISH: definition("ONIMCONNECTORDIALOGFINISH", {
    data: Schema.Struct({ CONNECTOR: Schema.String, LINE: num, DATA: list(DialogItem) }, rest),
    scope: "imopenlines",
    summary: "A dialog of a connector's chat finished",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONIMCONNECTORSTATUSDELETE: definition("ONIMCONNECTORSTATUSDELETE", {
    data: upperConnectorLine,
    scope: "imopenlines",
    summary: "The connector was switched off on a line: stop sending to it",
    source: "docs/bitrix24-events.md §4, §6 #6",
    appOnly: true
  }),
  ONIMCONNECTORLINEDELETE: definition("ONIMCONNECTORLINEDELETE", {
    data: lineId,
    scope: "imopenlines",
    summary: "An open line was deleted (data is the bare line ID)",
    source: "docs/bitrix24-events.md §4, §6 #7"
  }),
  ONOPENLINEMESSAGEADD: definition("ONOPENLINEMESSAGEADD", {
    data: Schema.Struct({ DATA: list(LineMessageItem) }, rest),
    scope: "imopenlines",
    summary: "A message was added in an open-line dialog of the application's connector",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONOPENLINEMESSAGEUPDATE: definition("ONOPENLINEMESSAGEUPDATE", {
    data: Schema.Struct(
      { CONNECTOR: Schema.optional(Schema.String), LINE: Schema.optional(num), DATA: list(rest) },
      rest
    ),
    scope: "imopenlines",
    summary: "A message was edited in an open-line dialog of the application's connector",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONOPENLINEMESSAGEDELETE: definition("ONOPENLINEMESSAGEDELETE", {
    data: Schema.Struct(
      { CONNECTOR: Schema.optional(Schema.String), LINE: Schema.optional(num), DATA: list(rest) },
      rest
    ),
    scope: "imopenlines",
    summary: "A message was deleted in an open-line dialog of the application's connector",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONSESSIONSTART: definition("ONSESSIONSTART", {
    data: Schema.Struct({ DATA: list(DialogItem) }, rest),
    scope: "imopenlines",
    summary: "An open-line session started",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  }),
  ONSESSIONFINISH: definition("ONSESSIONFINISH", {
    data: Schema.Struct({ DATA: list(DialogItem) }, rest),
    scope: "imopenlines",
    summary: "An open-line session finished",
    source: "docs/bitrix24-events.md §4",
    appOnly: true
  })
} as const

/**
 * The event codes this library types.
 *
 * @since 0.1.0
 * @category catalog
 */
export type Code = keyof typeof definitions

/**
 * The codes of {@link definitions}, in catalog order.
 *
 * @since 0.1.0
 * @category catalog
 */
export const codes = Object.keys(definitions) as ReadonlyArray<Code>

const known: ReadonlySet<string> = new Set(codes)

/**
 * Is this code one this library types?
 *
 * @since 0.1.0
 * @category catalog
 */
export const isKnown = (code: string): code is Code => known.has(code)

/**
 * An event this library does not type: its code, envelope and `data` as received. Never dropped.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnknownEvent = Schema.TaggedStruct("UnknownEvent", {
  event: Schema.String.pipe(Schema.filter((code) => !known.has(code) || "is a typed event")),
  ...header,
  data: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "UnknownEvent" })

/**
 * @since 0.1.0
 * @category models
 */
export type UnknownEvent = typeof UnknownEvent.Type

type Definitions = typeof definitions

/**
 * A typed event: `_tag` is its code.
 *
 * @since 0.1.0
 * @category models
 */
export type Typed = { readonly [C in Code]: Schema.Schema.Type<Definitions[C]["schema"]> }[Code]

/**
 * A decoded event: one of the typed events, or {@link UnknownEvent}.
 *
 * @since 0.1.0
 * @category models
 */
export type Event = Typed | UnknownEvent

/**
 * The typed event with this code.
 *
 * @since 0.1.0
 * @category models
 */
export type Of<C extends Code> = Schema.Schema.Type<Definitions[C]["schema"]>

/**
 * The envelope of a delivery as a transformation of the raw decoded form: `event` upper-cased into `_tag` (or
 * `UnknownEvent` with `event` kept), the binding ID from `event_handler_id`, `eventId` or `event_id` (§6 #4) into
 * `event_handler_id`, the rest as received.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.transform(rest, rest, {
  strict: true,
  decode: (body) => {
    const out: Record<string, unknown> = { ...body }
    const code = typeof body.event === "string" ? body.event.toUpperCase() : body.event
    if (typeof code === "string" && known.has(code)) {
      out._tag = code
      delete out.event
    } else {
      out._tag = "UnknownEvent"
      out.event = code
    }
    const id = body.event_handler_id ?? body.eventId ?? body.event_id
    delete out.eventId
    delete out.event_id
    if (id !== undefined) out.event_handler_id = id
    return out
  },
  encode: (event) => {
    const out: Record<string, unknown> = { ...event }
    if (event._tag !== "UnknownEvent") out.event = event._tag
    delete out._tag
    return out
  }
})

/**
 * Any delivery: the raw decoded form body in, a typed event (or {@link UnknownEvent}) out.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Event: Schema.Schema<Event, Readonly<Record<string, unknown>>> = Envelope.pipe(
  Schema.compose(
    Schema.Union(...Object.values(definitions).map((d) => d.schema), UnknownEvent) as unknown as Schema.Schema<
      Event,
      Readonly<Record<string, unknown>>
    >
  )
) as unknown as Schema.Schema<Event, Readonly<Record<string, unknown>>>

/**
 * Decodes a delivery's raw form (see {@link Event}).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = Schema.decodeUnknownEither(Event)

/**
 * The event's code: `_tag` for a typed event, `event` for an unknown one.
 *
 * @since 0.1.0
 * @category accessors
 */
export const code = (event: Event): string => event._tag === "UnknownEvent" ? String(event.event) : event._tag

/**
 * The event as JSON-safe data for logs and NDJSON: everything decoded, with tokens shown as `<redacted>`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const toJson = (event: Event): unknown =>
  JSON.parse(JSON.stringify(event, (_key, value) => Redacted.isRedacted(value) ? "<redacted>" : value))
