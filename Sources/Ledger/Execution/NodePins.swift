import ChainTypes

/// The TLS pins of the chain's nodes: genesis pins each validator (optionally) and each
/// observer; governance (`GovernanceAction.setNodePin`) overrides a pin in state.
///
/// Invariant: the effective pin of a node is its override in state (`StateKey.nodePin`) if
/// there is one, else its genesis pin; no two nodes ever have the same effective pin (genesis
/// validation refuses shared pins, and a rotation to another node's pin fails), so the
/// transport can map a pin to exactly one node key.
struct NodePins {
    let genesis: Genesis

    /// Every node key genesis knows, with its genesis pin (nil: a validator without one).
    /// At most `Limits.maxValidators + Limits.maxObservers` entries.
    var genesisPins: [(key: PublicKey, pin: Hash?)] {
        genesis.validators.validators.map { ($0.publicKey, $0.tlsSPKISHA256) }
            + genesis.observers.map { ($0.nodeKey, Optional($0.tlsSPKISHA256)) }
    }

    /// The genesis pin of `key`: `.none` when `key` is no node of genesis, `.some(nil)` for a
    /// validator without a pin.
    func genesisPin(_ key: PublicKey) -> Hash?? {
        if let v = genesis.validators.validators.first(where: { $0.publicKey == key }) { return .some(v.tlsSPKISHA256) }
        if let o = genesis.observers.first(where: { $0.nodeKey == key }) { return .some(o.tlsSPKISHA256) }
        return .none
    }

    /// The override governance set for `key`, if any.
    func override(_ key: PublicKey, in state: StateOverlay) throws(LedgerError) -> Hash? {
        let bytes: [UInt8]?
        do { bytes = try state.get(StateKey.nodePin(key.address)) } catch { throw .store(error) }
        guard let bytes else { return nil }
        guard let pin = Hash(bytes: bytes) else { throw .corrupted("the TLS pin of node \(key.hex) is \(bytes.count) bytes, not 32") }
        return pin
    }

    /// The effective pin of `key` (override ?? genesis pin); nil for a node without one or a
    /// key genesis does not know.
    func effective(_ key: PublicKey, in state: StateOverlay) throws(LedgerError) -> Hash? {
        guard let genesisPin = genesisPin(key) else { return nil }
        return try override(key, in: state) ?? genesisPin
    }

    /// The effective pin of every node that has one.
    func all(in state: StateOverlay) throws(LedgerError) -> [PublicKey: Hash] {
        var pins: [PublicKey: Hash] = [:]
        for (key, genesisPin) in genesisPins {
            if let pin = try override(key, in: state) ?? genesisPin { pins[key] = pin }
        }
        return pins
    }
}

extension Executor {
    /// `GovernanceAction.setNodePin`: `node` must be a node of genesis, `spki` differ from its
    /// current pin and be no other node's current pin. Stores the override; the event names the
    /// node (data: its public key) and the new pin (third topic).
    func setNodePin(node: PublicKey, spki: Hash, state: StateOverlay) throws -> Event {
        let pins = NodePins(genesis: rules.genesis)
        guard pins.genesisPin(node) != nil else { throw fail(.unknownNode(node)) }
        let current = try pins.all(in: state)
        guard current[node] != spki else { throw fail(.pinUnchanged(node: node, spki: spki)) }
        if let holder = current.first(where: { $0.value == spki })?.key { throw fail(.pinInUse(spki: spki, holder: holder)) }
        state.set(StateKey.nodePin(node.address), spki.bytes)
        return Event(emitter: node.address, topics: [Event.topic("NodePinChanged"), addressTopic(node.address), spki], data: node.bytes)
    }
}

// Reads for the node (its peers' allow list), RPC and tests.
extension LedgerReader {
    /// The effective TLS pin of every validator and observer of genesis (the override
    /// governance set, else the genesis pin); a validator without any pin is absent.
    public func nodePins() throws(LedgerError) -> [PublicKey: Hash] {
        try NodePins(genesis: genesis).all(in: StateOverlay(store: store))
    }

    /// The effective TLS pin of `key`; nil when it has none or is no node of genesis.
    public func nodePin(_ key: PublicKey) throws(LedgerError) -> Hash? {
        try NodePins(genesis: genesis).effective(key, in: StateOverlay(store: store))
    }
}
