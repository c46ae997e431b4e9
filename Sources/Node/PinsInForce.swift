import ChainTypes
import Ledger
import PeerTransport

/// The TLS pins in force: each node's genesis pin unless governance replaced it
/// (`set_node_pin`, PROTOCOL.md "Pin rotation"), read from the committed state.
struct PinsInForce {
    let pins: [PublicKey: SPKIFingerprint]

    static func read(_ reader: some LedgerReader, directory: PeerDirectory) throws(NodeError) -> PinsInForce {
        let state: [PublicKey: Hash]
        do { state = try reader.nodePins() } catch { throw .ledger(error) }
        var pins: [PublicKey: SPKIFingerprint] = [:]
        for peer in directory.peers {
            pins[peer.nodeKey] = state[peer.nodeKey].flatMap { SPKIFingerprint(bytes: $0.bytes) } ?? peer.spki
        }
        return PinsInForce(pins: pins)
    }

    func pin(of key: PublicKey) -> SPKIFingerprint? { pins[key] }

    var allowList: PeerAllowList { PeerAllowList(Dictionary(pins.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })) }
}

extension NodeEngine {
    /// After a block that changed a pin: the allow list follows the state (new connections are
    /// checked against it, and connections under a revoked pin are closed by the transport).
    func followPins(after block: Block) {
        guard block.transactions.contains(where: { $0.body.kind == .setNodePin }) else { return }
        do {
            let pins = try PinsInForce.read(ledger, directory: directory)
            let revoked = allowList.replace(pins.allowList)
            logger.notice("TLS pins changed by governance", metadata: ["height": "\(block.header.height)", "revoked": "\(revoked.count)"])
            if pins.pin(of: local.nodeKey) != settings.tls.fingerprint {
                logger.error("this node's TLS certificate is no longer pinned: peers refuse it; restart the node with the certificate governance pinned (docs/OPERATIONS.md#rotating-a-tls-certificate)")
            }
        } catch {
            logger.error("cannot read the TLS pins after block \(block.header.height): \(error)")
        }
    }
}
