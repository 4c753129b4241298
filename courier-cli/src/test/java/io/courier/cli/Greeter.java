package io.courier.cli;

import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import java.util.List;

/** The service the command tests call. */
@ServiceName("cli.Greeter")
public interface Greeter {

  String greet(String name);

  int add(int a, int b);

  List<String> repeat(String word, int times);

  /** Fails every third call with an application error. */
  int tick();

  @OneWay
  void note(String text);
}
