import Audit
import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import PBFT
import Testing

/// docs/vectors/consensus.json is what `hansa dev write-vectors` writes from the vector chain.
@Suite struct ConsensusVectorFileTests {
    @Test func upToDate() throws {
        let chain = try ChainVectors.build(contractSource: repositoryRoot() + "/contracts/letter_of_credit.hc")
        let keys = ChainVectors.validatorKeys(chain.genesis)
        let json = ConsensusVectors.json(chain: chain.genesis.binding, blocks: chain.steps.prefix(2).map(\.block),
                                         certificate: chain.steps[0].certificate, keys: keys)
        let stored = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/docs/vectors/consensus.json"))
        #expect(stored == ProtocolVectors.jsonData(json), "docs/vectors/consensus.json is stale: run hansa dev write-vectors")
    }
}
