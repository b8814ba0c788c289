// WakeSignal, which starts a round of following when PostgreSQL notifies a commit: a signal wakes the
// waiter at once, one sent before the wait is not lost, several count as one, and without any the
// wait ends at its timeout.
@testable import DPQServer
import Foundation
import Testing

@Suite struct WakeSignalTests {
    @Test func signalsWakeTheWaiterAndTimeoutsEndTheWait() async throws {
        let wake = WakeSignal()
        let clock = ContinuousClock()

        // Nothing signalled: the timeout ends the wait.
        var t = clock.now
        await wake.wait(timeout: .milliseconds(100))
        #expect(clock.now - t >= .milliseconds(90))

        // A signal before the wait: it returns at once; two signals count as one.
        wake.signal()
        wake.signal()
        t = clock.now
        await wake.wait(timeout: .seconds(10))
        #expect(clock.now - t < .seconds(5))
        t = clock.now
        await wake.wait(timeout: .milliseconds(100))
        #expect(clock.now - t >= .milliseconds(90), "a second signal before the first wait counted twice")

        // A signal during the wait wakes it long before its timeout.
        let signaller = Task {
            try await Task.sleep(for: .milliseconds(50))
            wake.signal()
        }
        t = clock.now
        await wake.wait(timeout: .seconds(10))
        #expect(clock.now - t < .seconds(5))
        try await signaller.value

        // A timeout that expired does not wake a later wait early.
        await wake.wait(timeout: .milliseconds(10))
        t = clock.now
        await wake.wait(timeout: .milliseconds(200))
        #expect(clock.now - t >= .milliseconds(150))
    }
}
