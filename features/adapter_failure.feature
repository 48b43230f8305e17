Feature: Policy adapter failure
  The permit-decision service goes away. How bad that is depends on how the
  sidecar-watcher fails towards it: failing open lets requests through without
  a decision (enforcement is effectively off, SEV-1); failing closed rejects
  them (a reject-rate spike, SEV-2).

  Background:
    Given the drill cluster is available
    And the reference fabric is deployed
    And the fabric is in steady state

  Scenario Outline: The policy adapter fails (<failure_mode>)
    When the fault "adapter_failure" is injected with variant=scaled_to_zero, failure_mode=<failure_mode>
    Then an alert "<alert>" fires within 45 seconds
    And the incident is classified as <severity>
    When the runbook section "Initial Response / Incident Declaration" is executed
    And the runbook section "Incident Response Actions / Immediate Mitigation" is executed
    Then the deployment "sidecar-watcher" has <replicas> replicas within 60 seconds
    And the sink holds a "slack" notification within 10 seconds
    When the fault is rolled back
    And the runbook section "Recovery Procedures / <recovery>" is executed
    Then the steady state is restored within 180 seconds
    And the ConfigMap "policy-config" has "enforcement_mode" set to "enforce" within 10 seconds

    Examples:
      | failure_mode | alert                    | severity | replicas | recovery                    |
      | fail_open    | PolicyAdapterFailingOpen | SEV-1    | 0        | Policy Enforcement Recovery |
      | fail_closed  | RejectRateSpikeHigh      | SEV-2    | 3        | Performance Recovery        |
