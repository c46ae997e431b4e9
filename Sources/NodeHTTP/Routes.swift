import Foundation
import Hummingbird

/// The routes of the node's HTTP server, built on one router that other modules extend.
public enum NodeHTTPRoutes {
    /// The content type of Prometheus' text exposition format 0.0.4.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// A router with the error and limits middleware, `GET /health` and `GET /metrics`, then
    /// whatever `extraRoutes` adds (the JSON-RPC module adds its endpoints there). Every route
    /// added to this router gets the JSON errors, the body limit and the context's deadline.
    public static func makeRouter(
        configuration: NodeHTTPConfiguration, status: any NodeStatusSource, metrics: NodeMetrics,
        nowMillis: @escaping @Sendable () -> Int64,
        extraRoutes: (Router<NodeRequestContext>) -> Void = { _ in }
    ) -> Router<NodeRequestContext> {
        let router = Router(context: NodeRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: RequestLimitsMiddleware(maxRequestBodyBytes: configuration.maxRequestBodyBytes,
                                                       requestTimeout: configuration.requestTimeout))
        let thresholds = configuration.health
        router.get("/health") { _, context in
            try await health(status: status, nowMillis: nowMillis, thresholds: thresholds, timeout: context.requestTimeout)
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = metricsContentType
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        extraRoutes(router)
        return router
    }

    /// `GET /health`: the status with `status` and `reasons`; 200 when ok, 503 otherwise. A
    /// status source that does not answer within the deadline is itself a degraded node.
    static func health(status source: any NodeStatusSource, nowMillis: @Sendable () -> Int64,
                       thresholds: HealthThresholds, timeout: Duration) async throws -> Response {
        let body: Data
        let state: HealthState
        do {
            let status = try await withRequestDeadline(timeout) { await source.status() }
            let report = HealthRules.evaluate(status, nowMillis: nowMillis(), thresholds: thresholds)
            body = try jsonEncoder.encode(HealthBody(status: status, report: report))
            state = report.state
        } catch NodeHTTPError.deadlineExceeded {
            let reason = "status unavailable: the node did not answer within \(timeout)"
            body = try jsonEncoder.encode(UnavailableBody(status: .degraded, reasons: [reason]))
            state = .degraded
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: state.httpStatusCode == 200 ? .ok : .serviceUnavailable, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct UnavailableBody: Encodable {
        let status: HealthState
        let reasons: [String]
    }

    private static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
