import Hummingbird

/// Turns every error into a JSON body `{"error": {"message": "…"}}` with the right status:
/// Hummingbird's bare errors (404 of an unknown route, 405, 413) get their reason phrase as
/// the message; anything that is not an HTTP error is a 500 whose detail goes to the log only.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = NodeRequestContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            guard error.body == nil else { throw error }
            throw HTTPError(error.status, headers: error.headers, message: Self.message(for: error.status, request))
        } catch let error as any HTTPResponseError {
            throw error
        } catch NodeHTTPError.deadlineExceeded(let timeout) {
            throw HTTPError(.serviceUnavailable, message: "the request took longer than \(timeout)")
        } catch {
            context.logger.error("HTTP handler failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw HTTPError(.internalServerError, message: "internal error")
        }
    }

    static func message(for status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: "no route \(request.method) \(request.uri.path)"
        default: status.reasonPhrase.lowercased()
        }
    }
}

/// The per-request limits: a body larger than the limit is refused with 413 — at once when
/// Content-Length says so, otherwise as the handler reads past it — and the context carries
/// the limit and the deadline to the handler.
struct RequestLimitsMiddleware: RouterMiddleware {
    typealias Context = NodeRequestContext
    let maxRequestBodyBytes: Int
    let requestTimeout: Duration

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxRequestBodyBytes {
            throw HTTPError(.contentTooLarge, message: "request body of \(length) bytes exceeds the limit of \(maxRequestBodyBytes) bytes")
        }
        var request = request
        request.body = RequestBody(asyncSequence: LimitedBody(base: request.body, limitBytes: maxRequestBodyBytes))
        var context = context
        context.maxRequestBodyBytes = maxRequestBodyBytes
        context.requestTimeout = requestTimeout
        return try await next(request, context)
    }
}

/// A request body that throws 413 once more than `limitBytes` have arrived.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limitBytes: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limitBytes: Int
        var seenBytes = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seenBytes += buffer.readableBytes
            if seenBytes > limitBytes {
                throw HTTPError(.contentTooLarge, message: "request body exceeds the limit of \(limitBytes) bytes")
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limitBytes: limitBytes)
    }
}
