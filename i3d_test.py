"""The original release's tests of the I3D model, on TensorFlow 2 and Sonnet 2."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=g-import-not-at-top

import i3d  # pylint: disable=g-import-not-at-top

_IMAGE_SIZE = 224
_NUM_CLASSES = 400
_BATCH_SIZE = 5
_NUM_FRAMES = 64


class I3dTest(tf.test.TestCase):
  """Tests of the I3D model, as in the release."""

  def testModelShapesWithSqueeze(self):
    """Logits of shape [B, num_classes] with spatial squeeze."""
    model = i3d.InceptionI3d(num_classes=_NUM_CLASSES, final_endpoint='Predictions')
    inputs = tf.zeros((_BATCH_SIZE, _NUM_FRAMES, _IMAGE_SIZE, _IMAGE_SIZE, 3))
    predictions, end_points = model(inputs, is_training=False, dropout_keep_prob=0.5)
    self.assertEqual(predictions.shape, (_BATCH_SIZE, _NUM_CLASSES))
    self.assertEqual(end_points['Logits'].shape, (_BATCH_SIZE, _NUM_CLASSES))

  def testModelShapesWithoutSqueeze(self):
    """Logits of shape [B, 1, 1, num_classes] without spatial squeeze."""
    model = i3d.InceptionI3d(num_classes=_NUM_CLASSES, spatial_squeeze=False,
                             final_endpoint='Predictions')
    inputs = tf.zeros((_BATCH_SIZE, _NUM_FRAMES, _IMAGE_SIZE, _IMAGE_SIZE, 3))
    predictions, _ = model(inputs, is_training=False, dropout_keep_prob=0.5)
    self.assertEqual(predictions.shape, (_BATCH_SIZE, 1, 1, _NUM_CLASSES))

  def testInitErrors(self):
    # Invalid end point name.
    with self.assertRaisesRegex(ValueError, 'Unknown final endpoint'):
      i3d.InceptionI3d(final_endpoint='Conv3d_1a_8x8')

    # Dropout keep probability must be in (0, 1].
    model = i3d.InceptionI3d(final_endpoint='Predictions')
    inputs = tf.zeros((_BATCH_SIZE, _NUM_FRAMES, _IMAGE_SIZE, _IMAGE_SIZE, 3))
    with self.assertRaisesRegex(ValueError, 'dropout_keep_prob'):
      model(inputs, is_training=False, dropout_keep_prob=0)

    # Height and width must reach the 7x7 logits pool.
    wrong_inputs = tf.zeros((_BATCH_SIZE, _NUM_FRAMES, 10, 10, 3))
    with self.assertRaisesRegex(ValueError, 'too small'):
      model(wrong_inputs, is_training=False)


if __name__ == '__main__':
  tf.test.main()
