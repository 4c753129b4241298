package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {

  @Test
  void retriesAreAShareOfCalls() {
    RetryBudget budget = new RetryBudget(0.2, 0);
    assertThat(budget.tryWithdraw()).isFalse(); // no calls yet, no floor
    for (int i = 0; i < 10; i++) {
      budget.deposit();
    }
    assertThat(budget.tryWithdraw()).isTrue();
    assertThat(budget.tryWithdraw()).isTrue();
    assertThat(budget.tryWithdraw()).isFalse();
  }

  @Test
  void theFloorLetsAQuietClientRetry() throws Exception {
    RetryBudget budget = new RetryBudget(0, 100);
    int granted = 0;
    while (budget.tryWithdraw()) {
      granted++;
    }
    assertThat(granted).isEqualTo(100); // one second's worth to start with
    Thread.sleep(120);
    assertThat(budget.tryWithdraw()).isTrue(); // refilled at 100 a second
  }
}
