// One SIP gateway process of the demo lab: `tsx lab/sip-gateway/main.ts ADDRESS PORT`. Answers the
// service DN pings (OPTIONS) of the servers whose DN `contact` is sip:…@ADDRESS:PORT with 200 OK.
// Its stdout is read by the lab (server/lab/lab.ts), one line each:
//   listening sip:gw@ADDRESS:PORT     once bound
//   answered FROM-ADDRESS:FROM-PORT   after each OPTIONS answered
// It ends on SIGTERM/SIGINT and when its stdin closes (the lab that started it is gone), so a killed
// console leaves no gateway holding the port.
import { startSipGateway } from "./gateway";

async function main(): Promise<void> {
  const [address, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (!address || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write("usage: main.ts ADDRESS PORT\n");
    process.exit(2);
  }
  const gateway = await startSipGateway(address, { port, onAnswered: (from) => process.stdout.write(`answered ${from.address}:${from.port}\n`) }).catch((err: unknown) => {
    process.stderr.write(`sip-gateway: cannot bind ${address}:${port}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
  process.stdout.write(`listening ${gateway.contact}\n`);
  const stop = () => {
    gateway.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}

void main();
