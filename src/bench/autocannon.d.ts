/**
 * The part of autocannon (v8, a devDependency without types of its own) that the `serve` suite's
 * load probe uses: one run against one URL, requests built per call by `setupRequest`, and the
 * `response` event with each response's time.
 */
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      readonly method?: string
      readonly path?: string
    }
    interface Options {
      readonly url: string
      readonly connections: number
      readonly duration: number
      readonly overallRate?: number
      readonly connectionRate?: number
      readonly timeout?: number
      readonly ignoreCoordinatedOmission?: boolean
      readonly requests?: ReadonlyArray<Request & { readonly setupRequest?: (request: Request) => Request }>
    }
    interface Result {
      readonly errors: number
      readonly timeouts: number
      readonly non2xx: number
    }
    interface Instance {
      on(
        event: "response",
        listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void
      ): Instance
      stop(): void
    }
  }
  function autocannon(
    options: autocannon.Options,
    done: (error: Error | null, result: autocannon.Result) => void
  ): autocannon.Instance
  export = autocannon
}
