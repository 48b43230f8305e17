Feature: Enforcement disabled by configuration drift
  Somebody (or something) sets enforcement_mode to disabled. The runbook's
  answer is the full incident: declare, mitigate, re-enable enforcement
  gradually, document, communicate — and every item of its checklist holds.

  Background:
    Given the drill cluster is available
    And the reference fabric is deployed
    And the fabric is in steady state

  Scenario: Enforcement disabled, from detection to the success criteria
    When the fault "enforcement_disabled" is injected
    Then an alert "PolicyEnforcementDisabled" fires within 45 seconds
    And the incident is classified as SEV-1
    And the logs of "app=sidecar-watcher" contain "enforcement_mode|disabled" within 30 seconds
    When the runbook section "Initial Response / Incident Declaration" is executed
    And the runbook section "Incident Response Actions / Immediate Mitigation" is executed
    Then the deployment "sidecar-watcher" has 0 replicas within 60 seconds
    And the sink holds a "security" notification within 10 seconds
    When the fault is rolled back
    And the runbook section "Recovery Procedures / Policy Enforcement Recovery" is executed
    Then the steady state is restored within 180 seconds
    And the metric "pfdrill:enforcement_disabled" is 0 within 30 seconds
    When the runbook section "Post-Incident / Incident Documentation" is executed
    And the runbook section "Post-Incident / Post-Mortem" is executed
    And the runbook section "Post-Incident / Process Improvements" is executed
    And the runbook section "Communication / Stakeholder Updates" is executed
    And the runbook section "Communication / Team Communication" is executed
    Then all success criteria are met
