/**
 * What a WAMP parameter decorator extracts from the `WampContext`. The numbers matter: Nest's pipes see
 * Nest's route parameter type of the same number, and `ValidationPipe` validates only `body` (3), `query`
 * (4) and `param` (5) parameters. So args and kwargs take 3 and 4 (as `@nestjs/microservices` gives its
 * payload 3), while details, URI and context take numbers that pipes see as `custom` and skip.
 */
export enum WampParamType {
  ARGS = 3,
  KWARGS = 4,
  DETAILS = 6,
  URI = 7,
  CONTEXT = 8,
}
