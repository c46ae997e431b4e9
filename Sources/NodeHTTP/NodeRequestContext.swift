import Hummingbird
import NIOCore

/// The request context of every route on the node's HTTP server, this module's and the
/// JSON-RPC routes' alike.
///
/// It carries the client's address (for logs and per-client limits) and the body limit that
/// ``RequestLimitsMiddleware`` sets from the configuration, so decoding a body with
/// `request.decode(as:context:)` or `collectBody(upTo: context.maxUploadSize)` obeys it.
public struct NodeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address; nil in router tests without a socket.
    public let remoteAddress: SocketAddress?
    /// Largest body a handler may read (``NodeHTTPConfiguration/maxRequestBodyBytes``).
    public var maxRequestBodyBytes: Int
    /// The handler deadline (``NodeHTTPConfiguration/requestTimeout``), for
    /// ``withRequestDeadline(_:_:)`` in routes.
    public var requestTimeout: Duration

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        let defaults = NodeHTTPConfiguration()
        self.maxRequestBodyBytes = defaults.maxRequestBodyBytes
        self.requestTimeout = defaults.requestTimeout
    }

    public var maxUploadSize: Int { maxRequestBodyBytes }
}
