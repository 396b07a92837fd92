/**
 * The outside channel of the example: a tiny chat kept in memory and spoken over HTTP, standing in for a messenger, a
 * web chat or a help desk. Customers write with `POST /chat/send`, change or take back what they wrote with
 * `POST /chat/edit` and `POST /chat/delete`, and read what the operators answered with `GET /chat/inbox?since=N`
 * (every change is one entry, in order). When the open line drops the connector, the chat says `closed` and refuses
 * new messages (409).
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * A customer's message as the chat takes it: who (`user`, `name`), which conversation (`chat`), the message's own ID
 * and its text.
 *
 * @since 0.1.0
 */
export const CustomerMessage = Schema.Struct({
  user: Schema.String.pipe(Schema.minLength(1)),
  name: Schema.optional(Schema.String),
  chat: Schema.String.pipe(Schema.minLength(1)),
  id: Schema.String.pipe(Schema.minLength(1)),
  text: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 */
export type CustomerMessage = typeof CustomerMessage.Type

/**
 * One entry of a conversation's inbox: an operator's message, its edit or deletion, or the line closing.
 *
 * @since 0.1.0
 */
export interface Entry {
  readonly seq: number
  readonly chat: string
  readonly type: "message" | "edit" | "delete" | "closed"
  readonly id: string
  readonly text?: string | undefined
}

/**
 * What the chat does with a customer's action: forward it to the open line, or refuse it.
 *
 * @since 0.1.0
 */
export interface Forward {
  readonly send: (message: CustomerMessage) => Effect.Effect<void, unknown>
  readonly edit: (message: CustomerMessage) => Effect.Effect<void, unknown>
  readonly remove: (message: CustomerMessage) => Effect.Effect<void, unknown>
}

/**
 * The chat's state: the operators' side of every conversation, and whether the line is open.
 *
 * @since 0.1.0
 */
export interface Channel {
  readonly entries: Array<Entry>
  open: boolean
  /** Adds an entry for the customer of `chat` to read. */
  readonly post: (entry: Omit<Entry, "seq">) => void
}

/**
 * A new, open channel.
 *
 * @since 0.1.0
 */
export const make = (): Channel => {
  const entries: Array<Entry> = []
  return {
    entries,
    open: true,
    post: (entry) => void entries.push({ ...entry, seq: entries.length + 1 })
  }
}

const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

/**
 * The chat's HTTP routes over a channel, forwarding customers' actions with `forward` while the line is open.
 *
 * @since 0.1.0
 */
export const routes = (channel: Channel, forward: Effect.Effect<Forward | undefined>) => {
  const action = (pick: (forward: Forward) => (message: CustomerMessage) => Effect.Effect<void, unknown>) =>
    Effect.gen(function*() {
      const message = yield* HttpServerRequest.schemaBodyJson(CustomerMessage)
      const target = yield* forward
      if (!channel.open) return json(409, { error: "the open line has closed this channel" })
      if (target === undefined) return json(503, { error: "the bridge is not connected yet" })
      return yield* pick(target)(message).pipe(
        Effect.as(json(202, { accepted: message.id })),
        Effect.catchAll((error) => Effect.succeed(json(502, { error: String(error) })))
      )
    }).pipe(
      Effect.catchTags({
        ParseError: () => Effect.succeed(json(400, { error: "not a customer message" })),
        RequestError: () => Effect.succeed(json(400, { error: "unreadable request" }))
      })
    )

  return HttpRouter.empty.pipe(
    HttpRouter.post("/chat/send", action((f) => f.send)),
    HttpRouter.post("/chat/edit", action((f) => f.edit)),
    HttpRouter.post("/chat/delete", action((f) => f.remove)),
    HttpRouter.get(
      "/chat/inbox",
      Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
        const url = new URL(request.url, "http://bridge.invalid")
        const since = Number(url.searchParams.get("since") ?? "0")
        const chat = url.searchParams.get("chat")
        return json(200, {
          open: channel.open,
          entries: channel.entries.filter((entry) =>
            entry.seq > since && (chat === null || entry.chat === chat || entry.type === "closed")
          )
        })
      })
    )
  )
}
