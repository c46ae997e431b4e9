/// Runs `work` with a deadline: the result if it finishes within `timeout`, otherwise
/// ``NodeHTTPError/deadlineExceeded(_:)`` at the deadline, and `work` is cancelled.
///
/// Unlike a task group, this returns at the deadline even when `work` ignores cancellation
/// (a task group would wait for it): a stuck node must not make `/health` hang. `work` runs
/// in an unstructured task, which is why it must be `@Sendable` and its result `Sendable`.
///
/// Invariant: the continuation is resumed exactly once — by whichever of work, timer or
/// caller cancellation comes first; the others find it taken.
public func withRequestDeadline<Value: Sendable>(
    _ timeout: Duration, _ work: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = DeadlineRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, timeout: timeout, work: work)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The state of one ``withRequestDeadline(_:_:)``: the waiting continuation and both tasks.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State: Sendable {
        var continuation: CheckedContinuation<Value, any Error>?
        var finished = false
        var tasks: [Task<Void, Never>] = []
    }
    private let state = LockedBox(State())

    func start(_ continuation: CheckedContinuation<Value, any Error>, timeout: Duration,
               work: @escaping @Sendable () async throws -> Value) {
        let alreadyFinished = state.withLock { state in
            state.continuation = continuation
            return state.finished
        }
        if alreadyFinished {  // cancelled before it started
            finish(.failure(CancellationError()))
            return
        }
        let worker = Task {
            do { self.finish(.success(try await work())) } catch { self.finish(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.finish(.failure(NodeHTTPError.deadlineExceeded(timeout))) }
        }
        let lateStart = state.withLock { state in
            state.tasks = [worker, timer]
            return state.finished
        }
        if lateStart { worker.cancel(); timer.cancel() }
    }

    func finish(_ result: Result<Value, any Error>) {
        let (continuation, tasks) = state.withLock { state in
            let taken = (state.continuation, state.tasks)
            if state.continuation != nil { state.continuation = nil; state.tasks = [] }
            state.finished = true
            return taken
        }
        guard let continuation else { return }
        for task in tasks { task.cancel() }
        continuation.resume(with: result)
    }
}
