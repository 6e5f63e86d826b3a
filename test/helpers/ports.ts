export { freePort } from '../../common/net/free-port.ts';
