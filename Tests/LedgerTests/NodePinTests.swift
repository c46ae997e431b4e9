import ChainTypes
import Ledger
import Testing

/// Issue 17: a governance transaction rotates a node's TLS pin in consensus state; the
/// effective pin is the state's override, else the genesis pin (docs/PROTOCOL.md §16).
@Suite("Node TLS pins rotate by governance")
struct NodePinTests {
    static func pin(_ label: String) -> Hash { SHA256.hash(utf8: "tls key \(label)") }
    static let observerKey = DevChain.key("auditor node")

    /// The dev chain with pins on validators 0–2 (validator 3 has none) and an auditor's observer.
    static let chain: DevChain = {
        let base = Fixture.chain
        var genesis = base.genesis
        let pinned = genesis.validators.validators.enumerated().map { i, v in
            Validator(name: v.name, publicKey: v.publicKey, p2pAddress: v.p2pAddress, tlsSPKISHA256: i < 3 ? pin("validator \(i)") : nil)
        }
        genesis.validators = try! ValidatorSet(pinned)
        genesis.observers = [Observer(name: "auditor-node", nodeKey: observerKey.publicKey, role: .auditor, bank: nil,
                                      tlsSPKISHA256: pin("observer"))]
        return DevChain(genesis: genesis, validatorKeys: base.validatorKeys, userKeys: base.userKeys)
    }()

    func rotate(_ f: Fixture, _ node: PublicKey, to spki: Hash, signers: [Int]? = nil, sender: Int = 0) throws -> Receipt {
        let tx = try f.dev.governanceTransaction(.setNodePin(node: node, spki: spki), on: f.ledger, sender: sender, signers: signers)
        return try f.commit([tx])[0]
    }

    func validator(_ f: Fixture, _ i: Int) -> PublicKey { f.bank(i).publicKey }

    @Test("the genesis pins hold until a rotation; then the override does, and the receipt names node and pin")
    func happyPath() throws {
        let f = try Fixture(chain: Self.chain)
        let v1 = validator(f, 1)
        #expect(try f.ledger.nodePins() == [validator(f, 0): Self.pin("validator 0"), v1: Self.pin("validator 1"),
                                           validator(f, 2): Self.pin("validator 2"), Self.observerKey.publicKey: Self.pin("observer")],
                "validator 3 has no pin and is absent")
        #expect(try f.ledger.nodePin(v1) == Self.pin("validator 1"))
        let rootBefore = f.ledger.stateRoot

        let receipt = try rotate(f, v1, to: Self.pin("validator 1, renewed"))
        #expect(receipt.succeeded, "\(receipt.status)")
        #expect(receipt.events == [Event(emitter: v1.address, topics: [Event.topic("NodePinChanged"),
                                                                       Hash(bytes: v1.address.bytes + [UInt8](repeating: 0, count: 12))!,
                                                                       Self.pin("validator 1, renewed")], data: v1.bytes)])
        #expect(try f.ledger.nodePin(v1) == Self.pin("validator 1, renewed"))
        #expect(try f.ledger.nodePins()[v1] == Self.pin("validator 1, renewed"))
        #expect(try f.ledger.nodePins().count == 4)
        #expect(try f.ledger.governanceSequence() == 1)
        #expect(f.ledger.stateRoot != rootBefore)
    }

    @Test("a validator without a genesis pin gets one; an observer's pin rotates")
    func unpinnedValidatorAndObserver() throws {
        let f = try Fixture(chain: Self.chain)
        #expect(try f.ledger.nodePin(validator(f, 3)) == nil)
        #expect(try rotate(f, validator(f, 3), to: Self.pin("validator 3")).succeeded)
        #expect(try f.ledger.nodePin(validator(f, 3)) == Self.pin("validator 3"))
        let observer = Self.observerKey.publicKey
        #expect(try rotate(f, observer, to: Self.pin("observer, renewed"), sender: 2).succeeded)
        #expect(try f.ledger.nodePin(observer) == Self.pin("observer, renewed"))
        #expect(try f.ledger.nodePins().count == 5)
    }

    @Test("a rotation is refused with a sentence", arguments: [
        ("too few approvals", "governance_approvals"),
        ("unknown node", "unknown_node"),
        ("another node's current pin", "pin_in_use"),
        ("the node's own current pin", "pin_unchanged"),
    ])
    func refused(_ name: String, _ code: String) throws {
        let f = try Fixture(chain: Self.chain)
        let v0 = validator(f, 0)
        let receipt: Receipt = switch name {
        case "too few approvals": try rotate(f, v0, to: Self.pin("new"), signers: [0, 1])
        case "unknown node": try rotate(f, f.user(0).publicKey, to: Self.pin("new"))
        case "another node's current pin": try rotate(f, v0, to: Self.pin("observer"))
        default: try rotate(f, v0, to: Self.pin("validator 0"))
        }
        #expect(receipt.failureCode == code, "\(receipt.status)")
        #expect(try f.ledger.nodePin(v0) == Self.pin("validator 0"))
        #expect(try f.ledger.governanceSequence() == 0, "a failed proposal decides nothing")
    }

    @Test("the refusals read as sentences naming the node and the pin")
    func refusalSentences() {
        let key = Self.observerKey.publicKey
        #expect(TransactionError.pinInUse(spki: Self.pin("x"), holder: key).description
                == "TLS pin \(Self.pin("x").hex) is node \(key.hex)'s current pin; two nodes may never share a TLS key")
        #expect(TransactionError.unknownNode(key).description.contains("neither a validator's key nor an observer's node key"))
    }

    @Test("a pin freed by a rotation may be taken by another node; the old holder's pin is the new one")
    func freedPinIsReusable() throws {
        let f = try Fixture(chain: Self.chain)
        #expect(try rotate(f, validator(f, 0), to: Self.pin("validator 0, renewed")).succeeded)
        #expect(try rotate(f, validator(f, 3), to: Self.pin("validator 0")).succeeded)
        #expect(try f.ledger.nodePin(validator(f, 3)) == Self.pin("validator 0"))
        // The override counts, not the genesis pin: validator 0's renewed pin is now taken.
        #expect(try rotate(f, validator(f, 1), to: Self.pin("validator 0, renewed")).failureCode == "pin_in_use")
    }

    @Test("finding 3: a replayed rotation is refused by the governance sequence")
    func replayRefused() throws {
        let f = try Fixture(chain: Self.chain)
        let v2 = validator(f, 2)
        let first = try f.dev.governanceTransaction(.setNodePin(node: v2, spki: Self.pin("a")), on: f.ledger)
        let payload = try GovernancePayload(canonicalBytes: first.body.payload)
        #expect(try f.commit([first])[0].succeeded)
        #expect(try rotate(f, v2, to: Self.pin("b"), sender: 1).succeeded)
        // Bank 3 resubmits the first approvals to roll the pin back to "a".
        let replay = try f.commit([try f.tx(f.bank(3), .setNodePin, payload)])[0]
        #expect(replay.failureCode == "governance_sequence", "\(replay.status)")
        #expect(try f.ledger.nodePin(v2) == Self.pin("b"))
    }

    @Test("a pin action under another governance kind is not admitted")
    func kindMustMatchAction() throws {
        let f = try Fixture(chain: Self.chain)
        let payload = try f.governance(.setNodePin(node: validator(f, 0), spki: Self.pin("new")), signers: 0..<3)
        #expect(throws: TransactionError.malformedPayload("the governance action does not match the transaction kind")) {
            try f.ledger.executor.checkStateless(try f.tx(f.bank(0), .changeRole, payload))
        }
    }

    @Test("the genesis state root does not change: only overrides are stored")
    func genesisRootUnchanged() throws {
        let plain = try Fixture()
        let pinned = try Fixture(chain: Self.chain)
        #expect(try plain.ledger.nodePins().isEmpty)
        // Same participants and deposits: the pins live in genesis, not in the genesis state.
        #expect(plain.ledger.stateRoot == pinned.ledger.stateRoot)
    }
}
