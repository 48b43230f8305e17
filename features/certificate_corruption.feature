Feature: Certificate corruption
  The trust bundle in Secret fabric-certs is corrupted, so capability
  certificates stop verifying: more than 1% failures is SEV-1.

  Background:
    Given the drill cluster is available
    And the reference fabric is deployed
    And the fabric is in steady state

  Scenario: The trust bundle is corrupted
    When the fault "certificate_corruption" is injected with mode=flip
    Then one of the alerts "CertificateVerificationFailures, BridgeGuaranteeFailure" fires within 45 seconds
    And the incident is classified as SEV-1
    When the runbook section "Initial Response / Incident Declaration" is executed
    And the runbook section "Incident Response Actions / Immediate Mitigation" is executed
    Then the ConfigMap "policy-config" has "enforcement_mode" set to "disabled" within 30 seconds
    When the fault is rolled back
    And the runbook section "Recovery Procedures / Policy Enforcement Recovery" is executed
    Then the steady state is restored within 180 seconds
