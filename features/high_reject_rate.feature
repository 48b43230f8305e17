Feature: High reject rate
  Violating traffic drives the reject rate far above its steady-state
  baseline. The multiple decides the severity (runbook: 2-10x SEV-3, >10x SEV-2).

  Background:
    Given the drill cluster is available
    And the reference fabric is deployed
    And the fabric is in steady state

  Scenario Outline: Rejects at <multiplier>x the baseline
    When the fault "high_reject_rate" is injected with multiplier=<multiplier>
    Then an alert "<alert>" fires within 60 seconds
    And the incident is classified as <severity>
    When the fault is rolled back
    Then the steady state is restored within 120 seconds

    Examples:
      | multiplier | alert                 | severity |
      | 12         | RejectRateSpikeHigh   | SEV-2    |
      | 5          | RejectRateSpikeMedium | SEV-3    |
