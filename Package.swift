// swift-tools-version: 6.2
// Hansa — a permissioned PBFT blockchain node for trade finance.
// The architecture is readable from `ls Sources`; see README.md and ../docs/.
import PackageDescription

/// Settings every Hansa target shares: Swift 6 mode (strict concurrency) and no warnings.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]
/// The core targets also opt in to strict memory safety: the compiler proves that no
/// unsafe pointer appears outside the three C wrappers.
let strictAndSafe: [SwiftSetting] = strict + [.strictMemorySafety()]

let package = Package(
    name: "Hansa",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hansa", targets: ["hansa"]),
        .library(name: "ChainTypes", targets: ["ChainTypes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // The peer transport (PeerTransport): SwiftNIO, TLS (BoringSSL), X.509 certificates made in Swift.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // The node's HTTP server (NodeHTTP): /health and /metrics, later the JSON-RPC routes.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian, each behind exactly one thin Swift wrapper.
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB",
                       providers: [.apt(["libleveldb-dev"])]),
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", pkgConfig: "libsecp256k1",
                       providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL",
                       providers: [.apt(["libssl-dev"])]),

        // Wrapper of libsecp256k1 and libcrypto: hashing, keys, signatures.
        .target(name: "HansaCrypto", dependencies: ["CSecp256k1", "COpenSSL"], swiftSettings: strict),
        // Value types and their canonical encoding. No I/O, no networking.
        .target(name: "ChainTypes", dependencies: ["HansaCrypto"], swiftSettings: strictAndSafe),
        // PBFT as a pure state machine: no I/O, no clock, no randomness.
        .target(name: "PBFT", dependencies: ["ChainTypes"], swiftSettings: strictAndSafe),
        // State, accounts, Merkle commitments, transactions, mempool, block execution; storage protocols.
        .target(name: "Ledger", dependencies: ["ChainTypes"], swiftSettings: strictAndSafe),
        // Files people write or keep: key files and the genesis template.
        .target(name: "HansaConfig",
                dependencies: ["ChainTypes", "HansaCrypto", .product(name: "TOMLKit", package: "TOMLKit")],
                swiftSettings: strict),
        // The smart-contract VM (bytecode, verifier, interpreter, gas) and the contract compiler.
        .target(name: "ContractVM", dependencies: ["Ledger", "ChainTypes", "HansaCrypto"], swiftSettings: strict),
        // The one replica driver: performs PBFT's actions on the ledger, the mempool and the
        // durable state (no networking; the node and the tests run it).
        .target(name: "NodeCore", dependencies: ["PBFT", "Ledger", "ChainTypes"], swiftSettings: strict),
        // Trade-finance tooling on the ledger and the VM: the letter of credit's vocabulary from its
        // own constants, the trade dev chain, the narrated demo scenario.
        .target(name: "TradeFinance", dependencies: ["ContractVM", "Ledger", "ChainTypes", "HansaCrypto"], swiftSettings: strict),
        // Whole clusters in one process on a seeded virtual network, with faults and checkers; each
        // replica runs the one driver (NodeCore) over a fast stand-in or the real ledger.
        .target(name: "Simulator", dependencies: ["NodeCore", "PBFT", "Ledger", "ContractVM", "TradeFinance", "ChainTypes"],
                swiftSettings: strict),
        // Peer transport: mutual TLS 1.3 pinned by SPKI hash, the signed application handshake,
        // length-prefixed frames (SwiftNIO + swift-nio-ssl). See docs/TRANSPORT.md.
        .target(name: "PeerTransport",
                dependencies: ["ChainTypes", "HansaCrypto",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "NIOTLS", package: "swift-nio"),
                               .product(name: "NIOSSL", package: "swift-nio-ssl"),
                               .product(name: "X509", package: "swift-certificates"),
                               .product(name: "SwiftASN1", package: "swift-asn1"),
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // A node's home directory: `hansa node init` writes it (node key, TLS key and certificate,
        // config.toml, genesis) and the node loads and checks it at start (NodeHome.load).
        .target(name: "NodeSetup", dependencies: ["HansaConfig", "PeerTransport", "ChainTypes", "HansaCrypto"],
                swiftSettings: strict),
        // The node's HTTP server: /health (status and degraded rules), /metrics (Prometheus text),
        // the certificate-expiry watch; the JSON-RPC routes join its router. Knows nothing of
        // PBFT, NodeCore or Ledger: the node hands it a NodeStatusSource and calls NodeMetrics.
        .target(name: "NodeHTTP",
                dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdCore", package: "hummingbird"),
                               .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The JSON-RPC 2.0 API on the node's HTTP server (POST /rpc, WebSocket /ws): methods over a
        // node-service protocol (RPCNodeService) and the ledger's read-only snapshot; knows
        // nothing of PBFT or the node's internals. See docs/RPC.md.
        .target(name: "RPC",
                dependencies: ["ChainTypes", "HansaCrypto", "Ledger", "ContractVM", "NodeHTTP",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The `hansa` client's side of the JSON-RPC: a session over the node's WebSocket, signed
        // reads, transactions built and signed with the next nonce, arguments as people write them.
        .target(name: "HansaClient",
                dependencies: ["RPC", "ChainTypes", "HansaCrypto", "Ledger", "ContractVM",
                               .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                               .product(name: "TOMLKit", package: "TOMLKit"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // Wrapper of LevelDB.
        .target(name: "LevelDBStore", dependencies: ["CLevelDB", "Ledger"], swiftSettings: strict),
        // The auditor (`hansa audit`, `hansa export`): verifies a chain from its genesis alone —
        // certificates, signatures, re-execution with its own state tree — from a data directory,
        // an archive or a node's RPC. Shares types, encoding, crypto and the state-transition
        // rules; none of the node's consensus or storage code. See docs/AUDIT.md.
        .target(name: "Audit", dependencies: ["ChainTypes", "HansaCrypto", "HansaConfig", "Ledger", "ContractVM", "LevelDBStore"], swiftSettings: strict),
        // The node: the one driver on real clocks over the peer network, gossip, block sync,
        // observers, the transaction intake. Glue: it depends on the core, never the reverse.
        .target(name: "Node",
                dependencies: ["ChainTypes", "HansaCrypto", "PBFT", "Ledger", "NodeCore", "LevelDBStore", "ContractVM", "PeerTransport",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: strict),

        .executableTarget(name: "hansa",
                          dependencies: ["ChainTypes", "HansaCrypto", "HansaConfig", "PBFT", "Simulator", "Ledger", "LevelDBStore", "ContractVM", "TradeFinance", "Audit",
                                         "NodeSetup", "PeerTransport", "Node", "NodeHTTP", "RPC", "HansaClient",
                                         .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                         .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                                         .product(name: "NIOHTTP1", package: "swift-nio")],
                          swiftSettings: strict),

        // Mutation testing of the consensus core (scripts/mutate builds it with -DHANSA_FLAWS):
        // its own executable so the mutation build needs no SwiftNIO, TLS or HTTP.
        .executableTarget(name: "hansa-mutate", dependencies: ["HansaCrypto", "PBFT", "Simulator",
                                                              .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/hansa-mutate", swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]),

        // libFuzzer driver for the decoders (scripts/fuzz).
        .executableTarget(name: "HansaFuzz", dependencies: ["ChainTypes", "Ledger", "PBFT", "ContractVM"],
                          swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]),

        // What several test targets share: the repository root, the built hansa executable, a seeded RNG.
        .target(name: "HansaTestSupport", path: "Tests/HansaTestSupport", swiftSettings: strict),
        .testTarget(name: "HansaCryptoTests", dependencies: ["HansaCrypto"], swiftSettings: strict),
        .testTarget(name: "ChainTypesTests", dependencies: ["ChainTypes", "HansaCrypto"], swiftSettings: strict),
        .testTarget(name: "HansaConfigTests", dependencies: ["HansaTestSupport", "HansaConfig", "ChainTypes", "HansaCrypto"],
                    swiftSettings: strict),
        .testTarget(name: "PBFTTests", dependencies: ["PBFT", "Simulator", "ChainTypes"], swiftSettings: strict),
        .testTarget(name: "SimulatorTests", dependencies: ["HansaTestSupport", "Simulator", "PBFT", "ChainTypes", "Ledger", "TradeFinance"], swiftSettings: strict),
        .testTarget(name: "LedgerTests", dependencies: ["HansaTestSupport", "Ledger", "ChainTypes"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["HansaTestSupport", "PBFT", "Ledger", "ChainTypes", "ContractVM", "NodeCore", "LevelDBStore",
                                                             "Audit", "HansaConfig"], swiftSettings: strict),
        .testTarget(name: "ContractVMTests", dependencies: ["HansaTestSupport", "ContractVM", "Ledger", "ChainTypes", "HansaCrypto"], swiftSettings: strict),
        .testTarget(name: "PeerTransportTests",
                    dependencies: ["PeerTransport", "ChainTypes", "HansaCrypto", "HansaTestSupport",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "NIOTLS", package: "swift-nio"),
                                   .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "NodeTests",
                    dependencies: ["Node", "HansaTestSupport", "PeerTransport", "PBFT", "Ledger", "ChainTypes", "HansaCrypto", "HansaConfig",
                                   "LevelDBStore",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "NodeSetupTests",
                    dependencies: ["HansaTestSupport", "NodeSetup", "HansaConfig", "PeerTransport", "ChainTypes", "HansaCrypto"],
                    swiftSettings: strict),
        .testTarget(name: "NodeHTTPTests",
                    dependencies: ["NodeHTTP",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "HummingbirdTesting", package: "hummingbird"),
                                   .product(name: "Prometheus", package: "swift-prometheus"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio")],
                    swiftSettings: strict),
        .testTarget(name: "RPCTests",
                    dependencies: ["RPC", "HansaClient", "NodeHTTP", "HansaTestSupport", "Ledger", "LevelDBStore", "ChainTypes", "HansaCrypto", "ContractVM",
                                   "TradeFinance",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio")],
                    swiftSettings: strict),
        .testTarget(name: "AuditTests",
                    dependencies: ["Audit", "HansaTestSupport", "HansaConfig", "Ledger", "LevelDBStore", "ChainTypes", "HansaCrypto", "ContractVM", "TradeFinance"],
                    swiftSettings: strict),
        .testTarget(name: "LevelDBStoreTests", dependencies: ["HansaTestSupport", "LevelDBStore", "Ledger", "ChainTypes"], swiftSettings: strict),
    ]
)
