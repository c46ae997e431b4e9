import ArgumentParser
import Foundation
import HansaConfig
import Ledger
import Logging
import Node
import NodeHTTP
import RPC
import NodeSetup
import PeerTransport
import ServiceLifecycle

/// `hansa node run --home DIR` (also `hansa node --home DIR`): runs a validator or an observer
/// from the home directory `hansa node init` made, until SIGTERM or SIGINT.
struct NodeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a validator or an observer from its home directory.",
        discussion: """
        Reads DIR/config.toml, the genesis, the node key and the TLS identity it names, and \
        checks them against each other; opens the data directory (refusing one of another \
        chain); listens for peers (validators) and dials the validators it should; then runs \
        until SIGTERM or SIGINT, when the block in hand is finished, the ledger closed and the \
        process exits 0. A problem before the start is one sentence and exit status 1, and \
        nothing is written. Logs go to standard error. docs/OPERATIONS.md describes it all.
        """)

    @Option(name: .long, help: "The node's home directory (made by `hansa node init`).")
    var home: String

    @Option(name: .long, help: "Log level, overriding config.toml: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        let loaded: NodeHome
        // The pin is checked by the node against the pins in force (governance may have rotated it).
        do { loaded = try NodeHome.load(home, now: Date(), checkGenesisPin: false) } catch { throw CLIError("\(error)") }
        let level = try logLevel.map { text -> Logger.Level in
            guard let l = Logger.Level(rawValue: text) else {
                throw CLIError("--log-level \(text): expected one of trace, debug, info, notice, warning, error, critical")
            }
            return l
        } ?? Logger.Level(rawValue: loaded.config.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "hansa.node")
        logger[metadataKey: "node"] = "\(loaded.membership.name)"
        let metrics = NodeMetrics()
        let holder = RuntimeHolder()
        let c = loaded.config
        let isValidator = if case .validator = loaded.membership { true } else { false }
        let rpc = try Self.rpc(loaded, holder: holder, isValidator: isValidator, logger: logger)
        let http = NodeHTTPServer(
            configuration: NodeHTTPConfiguration(host: c.httpListen.host, port: Int(c.httpListen.port)),
            status: RuntimeStatusSource(holder: holder, name: loaded.membership.name, isValidator: isValidator,
                                        validatorCount: loaded.genesis.validators.count, chainID: loaded.genesis.chain.value),
            metrics: metrics, logger: logger,
            extraRoutes: { router in rpc.register(on: router) },
            webSocket: { path, remote in rpc.webSocketHandler(path: path, remote: remote) })
        defer { rpc.shutdown(); rpc.accessLog.close() }
        var settings = Self.settings(loaded, logger: logger)
        settings.telemetry = MetricsTelemetry(metrics: metrics)
        let node = NodeRunService(http: http, holder: holder, metrics: metrics,
                                  certificate: (node: loaded.membership.name, notAfter: loaded.tls.notValidAfter), logger: logger,
                                  start: { [settings] () async throws(NodeError) -> NodeRuntime in try await NodeRuntime.start(settings) })
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: http, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                       .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do { try await group.run() } catch let failure as NodeStartFailure {
            throw CLIError(failure.description)
        } catch let failure as NodeHTTPError {
            throw CLIError("\(failure)")
        } catch {
            throw CLIError("the node stopped: \(error)")
        }
    }

    /// The JSON-RPC over the node: ABIs from `<home>/abi/*.abi.json`, the access log at
    /// `<home>/access.log` (checked before the node starts: a broken chain stops it).
    static func rpc(_ home: NodeHome, holder: RuntimeHolder, isValidator: Bool, logger: Logger) throws -> HansaRPC {
        let abis: ABIRegistry
        do { abis = try ABIRegistry.load(directory: NodePaths.resolve("abi", home: home.paths.home)) } catch { throw CLIError("\(error)") }
        let log: AccessLog
        do { log = try AccessLog(path: NodePaths.resolve("access.log", home: home.paths.home), node: home.membership.name) } catch {
            throw CLIError("\(error)")
        }
        let service = RuntimeRPCService(holder: holder, name: home.membership.name, isValidator: isValidator)
        return HansaRPC(service: service, abis: abis, accessLog: log, logger: logger)
    }

    static func settings(_ home: NodeHome, logger: Logger) -> NodeSettings {
        let c = home.config
        var mempool = Mempool.Limits()  // config.toml sets the count and bytes; the rest keep their defaults
        mempool.maxTransactions = c.limits.mempoolMaxTransactions
        mempool.maxBytes = c.limits.mempoolMaxBytes
        var settings = NodeSettings(genesis: home.genesis, nodeKey: home.nodeKey, tls: home.tls, dataDirectory: home.paths.dataDirectory,
                                    p2pListen: PeerAddress(host: c.p2p.listen.host, port: Int(c.p2p.listen.port)), mempool: mempool,
                                    handshakeTimeout: .milliseconds(Int64(c.p2p.handshakeTimeoutMillis)),
                                    sendQueueMaxMessages: c.limits.sendQueueMaxMessages, maxInboundPeers: c.p2p.maxInboundPeers, logger: logger)
        settings.dial = c.p2p.dial.mapValues { PeerAddress(host: $0.host, port: Int($0.port)) }
        return settings
    }
}
