export const USAGE = `greenlake-proxy: a local authenticating reverse proxy for HPE GreenLake APIs

Usage: greenlake-proxy [command] [options]

Commands:
  serve              Run the proxy (the default command)
  check              Validate the configuration; --online also fetches one token per client
  token              Print a fresh access token for a client, and nothing else, on stdout
  emulator           Run the local GreenLake emulator alone
  demo               Run the emulator and the proxy wired together, and print curl lines to try
  hash-key           Read an API key on stdin and print its inbound.apiKeys keyHash line;
                     --generate creates a random key and prints both

Options:
  --config FILE      YAML or JSON configuration (or GREENLAKE_PROXY_CONFIG)
  --host HOST        Listen address (or GREENLAKE_PROXY_HOST; default 127.0.0.1)
  --port PORT        Listen port (or GREENLAKE_PROXY_PORT; default 8080)
  --online           check: fetch one token per client
  --client NAME      token: the client (default: the first)
  --region REGION    token: the region key (default: that of the client's first route)
  --allow-unauthenticated
                     Listen on a non-loopback address without inbound.apiKeys or inbound.jwt
                     (refused otherwise): anyone who can connect uses the API clients' rights
  --generate         hash-key: create a random key
  --help, -h         This text
  --version, -v      The version

Without --config, GREENLAKE_CLIENT_ID and GREENLAKE_CLIENT_SECRET (or
GREENLAKE_CLIENT_SECRET_FILE), with optional GREENLAKE_TOKEN_URL, configure one client
and every catalog route. LOG_LEVEL sets the log level (default info).
serve reloads its --config file on SIGHUP; SIGTERM or SIGINT drain and exit 0.

Exit status: 0 success, 1 failure at run time, 2 bad usage or configuration.
`;
