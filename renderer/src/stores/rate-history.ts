// The Live charts' rate history lives in main/common (pure, unit-tested on
// the core's own frames); the renderer uses it as is.
export {
  RateHistory,
  OTHER_SERIES,
  type RateWindowView as RateWindow,
} from '../../../main/common/rate-history';
